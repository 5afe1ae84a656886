#pragma once
/// \file The subcommands of `regula`, one file each.  Each adds itself to
/// the CLI11 app; its callback does the work and may throw regula::Error.
#include <CLI/CLI.hpp>

#include "apps/common.h"

namespace regula::apps {

void add_info_command(CLI::App& app);
/// `regula demo`: the main job, a short tour of both capabilities on embedded defaults.
void add_demo_command(CLI::App& app);
/// `regula recover`: one problem (+ replicates), depths, windows, early stopping, baselines.
void add_recover_command(CLI::App& app);
/// `regula sweep`: a batched grid N x w0 x eta x seed x n.
void add_sweep_command(CLI::App& app);
/// `regula train`: minibatch training of any registered model with penalties.
void add_train_command(CLI::App& app);
/// `regula pinn`: physics-informed training on a PDE.
void add_pinn_command(CLI::App& app);
/// A short k-TV comparison (1-D cubic, no penalty vs k-TV k = 2) on embedded
/// defaults, well under a minute on a 2-core CPU; `request` gives --out and overrides.
void run_ktv_demo(const core::RunRequest& request);

}  // namespace regula::apps
