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
  std::string resume_dir;              ///< --resume DIR (commands that add_resume_option)
};

/// Adds --config, --out and the positional key=value overrides to `cmd`.
void add_run_options(CLI::App* cmd, RunArgs& args);

/// Adds --resume DIR: continue an interrupted run in its own directory, with its own config.
void add_resume_option(CLI::App* cmd, RunArgs& args);

/// Loads the config file (or `embedded_defaults`; with --resume, the run's
/// config.resolved.yaml) and applies the overrides.
core::Config load_config(const RunArgs& args, const std::string& embedded_defaults, const std::string& command);

/// Reads `device` and `seed` from the root section, resolves and seeds, and
/// logs which device was picked.
torch::Device setup_device_and_seed(core::Section root);

/// Creates the run directory for `name`, writes the resolved config and logs it.  With
/// --resume, reopens the run's directory and leaves its config as it is (see below).
core::RunDir create_run_dir(const RunArgs& args, const std::string& name, const core::Config& config);

/// With --resume, once the checkpoint was accepted (BatchedGDOptions::on_start): records the
/// config the run now follows (the resumption's overrides, e.g. a larger train.max_steps).
void record_resumed_config(const RunArgs& args, const core::RunDir& dir, const core::Config& config);

}  // namespace regula::apps
