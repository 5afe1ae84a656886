#pragma once
/// \file What every `regula <subcommand>` shares: --config, key=value
/// overrides, --out, and the run set-up (config -> device -> seed -> run dir).
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/types.h>

#include "core/config.h"
#include "core/run_dir.h"

namespace regula::apps {

/// Options common to the commands that run something.
struct RunArgs {
  std::string config_path;             ///< --config FILE (else the embedded defaults)
  std::vector<std::string> overrides;  ///< key=value ...
  std::string runs_root = "runs";      ///< --out DIR
};

/// Adds --config, --out and the positional key=value overrides to `cmd`.
void add_run_options(CLI::App* cmd, RunArgs& args);

/// Loads the config file (or `embedded_defaults`) and applies the overrides.
core::Config load_config(const RunArgs& args, const std::string& embedded_defaults, const std::string& command);

/// Reads `device` and `seed` from the root section, resolves and seeds, and
/// logs which device was picked.
torch::Device setup_device_and_seed(core::Section root);

/// Creates the run directory for `name`, writes the resolved config and logs it.
core::RunDir create_run_dir(const RunArgs& args, const std::string& name, const core::Config& config);

}  // namespace regula::apps
