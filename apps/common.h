#pragma once
/// \file The command-line side of every `regula <subcommand>` that runs
/// something: --config, --out, --resume and the key=value overrides, filled
/// into the library's core::RunRequest (core/run.h holds the front end itself).
#include <CLI/CLI.hpp>

#include "core/run.h"
#include "trainers/experiment.h"

namespace regula::apps {

/// Adds --config, --out and the positional key=value overrides to `cmd`.
void add_run_options(CLI::App* cmd, core::RunRequest& request);

/// Adds --resume DIR: continue an interrupted run in its own directory, with its own config.
void add_resume_option(CLI::App* cmd, core::RunRequest& request);

/// Prints an experiment's summary table and each run's stop reason.
void print_report(const trainers::ExperimentReport& report);

}  // namespace regula::apps
