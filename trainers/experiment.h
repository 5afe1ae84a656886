#pragma once
/// \file A comparison of variants x seeds with one command.  A config may list
///
///     seeds: [0, 1, 2, 3, 4]          # default: [seed]
///     variants:                       # default: one run of the config as is
///       - "none"
///       - "ridge_1e-2: regularizer.kind=l2 regularizer.weight=1e-2"
///       - "ktv_k2: regularizer.kind=ktv regularizer.order=2 regularizer.weight=1e-3"
///
/// Each variant is a name and key=value overrides (exactly the command-line
/// syntax; no spaces inside one value) applied on top of the config.  Every
/// (variant, seed) pair is one run in `<run>/<variant>/seed<k>/`; a single run
/// uses `<run>/` itself.  Data and model init depend on the seed only, so the
/// variants of one seed see the same data and the same initial weights.
/// `results.csv` holds one row per run, `summary.csv`/`summary.md` the mean
/// and sample standard deviation per variant.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "trainers/train_job.h"

namespace regula::trainers {

/// The embedded defaults of `regula train` (the README's k-TV demo table): the
/// 1-D cubic, no penalty against k-TV with k = 2.
extern const char* const kTrainDefaults;

/// A named set of overrides.
struct Variant {
  std::string name;
  std::vector<std::string> overrides;
};

/// Parses "name" or "name: key=value key=value ..." (ConfigError when malformed).
Variant parse_variant(const std::string& spec);

/// Builds one run's job from its config: read_train_job, or another line's reader
/// (a physics-informed run reads `pde:` instead of `data:`).
using JobReader = std::function<TrainJob(core::Section root, const core::RunSpec& run, uint64_t seed)>;

/// The metrics the summary table shows by default (those present in the runs).
const std::vector<std::string>& default_table_metrics();

/// What to run.
struct ExperimentSpec {
  std::string yaml_text;                ///< the config (file contents or embedded defaults)
  std::string origin;                   ///< its name in messages
  std::vector<std::string> overrides;   ///< command-line key=value overrides
  std::filesystem::path runs_root = "runs";
  std::filesystem::path resume_dir;     ///< continue this run directory (empty: a fresh run)
  JobReader read_job = read_train_job;  ///< builds each run's job
  std::string kind = "train";           ///< the command, recorded in the run directory for --resume
  std::vector<std::string> table_metrics = default_table_metrics();  ///< the summary table's columns
};

/// The spec of a command-line request: the --config file's text (or `embedded_defaults`, named
/// `origin` in messages), the overrides, --out and --resume (which takes the run's own input:
/// giving --config with it is a ConfigError).
ExperimentSpec experiment_spec(const core::RunRequest& request, const char* embedded_defaults, const std::string& origin);

/// One (variant, seed) run.
struct RunRecord {
  std::string variant;
  int64_t seed = 0;
  std::filesystem::path dir;
  RunOutcome outcome;
};

/// Mean and sample standard deviation of each metric of one variant over its seeds.
struct VariantSummary {
  std::string variant;
  int64_t runs = 0;
  std::map<std::string, std::pair<double, double>> stats;  ///< metric -> (mean, sd)
};

/// Everything an experiment produced.
struct ExperimentReport {
  std::filesystem::path dir;
  std::string name;
  std::vector<RunRecord> runs;
  std::vector<VariantSummary> summary;
  std::string table;  ///< the summary as a Markdown table (also in summary.md)
};

/// Validates every variant's config first (errors before any training), then
/// runs every (variant, seed) pair, skipping finished runs and resuming
/// interrupted ones when resume_dir is set.  The run directory keeps the input
/// (`input.yaml`, `input_overrides.txt`) that --resume reads back; overrides
/// given with --resume are applied after them (e.g. a larger train.steps).
ExperimentReport run_experiment(const ExperimentSpec& spec);

/// Groups runs by variant (in order of first appearance) with mean and sd.
std::vector<VariantSummary> summarize(const std::vector<RunRecord>& runs);

/// Formats the summary as a Markdown table of those of `metrics` that are present.
std::string format_summary(const std::vector<VariantSummary>& summary,
                           const std::vector<std::string>& metrics = default_table_metrics());

}  // namespace regula::trainers
