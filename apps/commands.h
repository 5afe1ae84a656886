#pragma once
/// \file The subcommands of `regula`, one file each.  Each adds itself to
/// the CLI11 app; its callback does the work and may throw regula::Error.
#include <CLI/CLI.hpp>

namespace regula::apps {

void add_info_command(CLI::App& app);
void add_train_command(CLI::App& app);

struct RunArgs;
/// A short k-TV comparison (1-D cubic, no penalty vs k-TV k = 2) on embedded
/// defaults, well under a minute on a 2-core CPU; `args` gives --out and overrides.
void run_ktv_demo(const RunArgs& args);

}  // namespace regula::apps
