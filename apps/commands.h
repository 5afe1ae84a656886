#pragma once
/// \file The subcommands of `regula`, one file each.  Each adds itself to
/// the CLI11 app; its callback does the work and may throw regula::Error.
#include <CLI/CLI.hpp>

#include "apps/common.h"

namespace regula::apps {

void add_info_command(CLI::App& app);
/// `regula recover`: one problem (+ replicates), depths, windows, early stopping, baselines.
void add_recover_command(CLI::App& app);
/// `regula sweep`: a batched grid N x w0 x eta x seed x n.
void add_sweep_command(CLI::App& app);
/// Short versions of sparse experiments 2 and 6 on embedded defaults (for `regula demo`).
void run_sparse_demo(const RunArgs& args);

}  // namespace regula::apps
