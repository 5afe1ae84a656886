#pragma once
/// \file One training run built from a config: data, model (from the
/// registry), regularizer, trainer options, early stopping.  The YAML front
/// end of `regula train`; docs/ktv-training.md lists every key.
///
///     data:        {kind: synthetic, target: cubic, n: 100, noise: 0.1, ...} | {kind: csv, path: ..., ...}
///     model:       {kind: mlp, hidden: [100], activation: tanh, ...}  (or a registered kind)
///     regularizer: {kind: none} | {kind: ktv, order: 2, weight: 1e-3, samples: 10, ...} | {kind: l2, ...}
///     train:       {steps, batch_size, eval_every, checkpoint_every, loss: {...}, optimizer: {...},
///                   schedule: {...}, early_stopping: {enabled: false, monitor: val_loss, ...}}
///     output:      {derivatives: 3}
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/config.h"
#include "core/run.h"
#include "models/model.h"
#include "trainers/callbacks.h"
#include "trainers/data.h"
#include "trainers/minibatch.h"

namespace regula::regularizers { class Regularizer; }

namespace regula::trainers {

/// Everything one run is made of, built from a config.
struct TrainJob {
  Dataset data;
  models::Model model;
  std::vector<std::shared_ptr<regularizers::Regularizer>> regularizers;
  MinibatchOptions trainer;
  std::optional<EarlyStoppingOptions> early_stopping;  ///< absent when disabled
  torch::Device device{torch::kCPU};
  torch::Dtype dtype = torch::kFloat32;
  int64_t derivatives = 3;  ///< 1-D: orders of derivatives written to predictions.csv
  /// The metric the divergence check watches (a physics-informed run has no data loss: "penalty").
  std::string divergence_monitor = "train_loss";
};

/// Reads the data section into a Dataset (`seed` is the default data seed).
Dataset read_dataset(core::Section data, uint64_t seed);

/// Reads the `train` section (steps, batch_size, eval_every, checkpoint_every, loss, optimizer,
/// schedule, early_stopping) into job.trainer and job.early_stopping (the job's data must be read
/// first: early stopping on val_* needs validation rows); `seed` seeds the shuffling.
void read_train_section(core::Section train, TrainJob& job, uint64_t seed);

/// Reads the sections of a run config below the run spec (data, model, regularizer,
/// train, output) and builds the job: data with seed `seed`, the model on the run's
/// device in its dtype (seeded with `seed` first, so the init is reproducible).
TrainJob read_train_job(core::Section root, const core::RunSpec& run, uint64_t seed);

/// Outcome of one run.
struct RunOutcome {
  int64_t steps = 0;
  std::string stop_reason;
  std::map<std::string, double> metrics;  ///< train_loss, val_loss, test_mse, test_pearson, ...
  double seconds = 0;
  bool resumed = false;
};

/// Trains `job` in `dir` (metrics.csv, checkpoints/, predictions.csv, train.csv,
/// result.csv when done).  With `resume`, continues from the newest checkpoint
/// in dir/checkpoints (a fresh start when there is none).  With `data_parallel`, every
/// rank of it trains the one model together (MinibatchOptions::distributed) and rank 0
/// alone writes the files.
RunOutcome run_train_job(TrainJob& job, const std::filesystem::path& dir, bool resume, const std::string& label,
                         const core::DistributedContext* data_parallel = nullptr);

/// Reads result.csv of a finished run; nullopt when the run is not finished.
std::optional<RunOutcome> read_run_outcome(const std::filesystem::path& dir);

/// The text of result.csv ("key,value" lines; doubles round-trip exactly) and its reader.
std::string format_run_outcome(const RunOutcome& outcome);
RunOutcome parse_run_outcome(const std::string& text);

}  // namespace regula::trainers
