#pragma once
/// \file The minibatch trainer of the k-TV experiments: any models::Model,
/// a data loss (MSE or trimmed), any number of regularizers added to it,
/// SGD/Adam with a learning-rate schedule, evaluation every `eval_every`
/// steps, callbacks (early stopping, CSV metrics, progress bar), checkpoints
/// every N steps and an exact resume.
///
/// A step touches device tensors only (no host sync): the data loss and the
/// penalty are accumulated on the device and read once per evaluation.
/// Batches have a fixed shape (the last partial batch of an epoch is dropped),
/// so a step can later be captured in a CUDA graph.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/distributed.h"
#include "core/options.h"
#include "models/model.h"
#include "trainers/callbacks.h"
#include "trainers/data.h"
#include "trainers/losses.h"
#include "trainers/optim.h"

namespace regula::regularizers { class Regularizer; }
namespace torch::optim { class Optimizer; }

namespace regula::trainers {

/// A non-owning pointer held by MinibatchOptions.
using DistributedContextPtr = const core::DistributedContext*;

/// Options of MinibatchTrainer.
struct MinibatchOptions {
  /// Number of optimizer steps.
  REGULA_ARG(int64_t, steps) = 2000;
  /// Rows per batch; 0 (or >= n) is full-batch training.
  REGULA_ARG(int64_t, batch_size) = 0;
  /// Evaluate (val/test metrics, callbacks' on_eval_end) every this many steps and at the last step.
  REGULA_ARG(int64_t, eval_every) = 100;
  /// Write a checkpoint every this many steps (0: never) into `checkpoint_dir`.
  REGULA_ARG(int64_t, checkpoint_every) = 0;
  /// Diverged when the training loss is not finite or exceeds this factor times its first
  /// evaluated value (run_train_job adds the DivergenceCheck callback that applies it).
  REGULA_ARG(double, divergence_factor) = 1e6;
  REGULA_ARG(std::filesystem::path, checkpoint_dir);
  /// Seed of the shuffling order (its own generator, saved in checkpoints).
  REGULA_ARG(uint64_t, shuffle_seed) = 0;
  REGULA_ARG(LossOptions, loss);
  REGULA_ARG(OptimizerOptions, optimizer);
  /// Data-parallel training over this context's ranks (not owned; null or a world of one:
  /// one process).  Every rank builds the same trainer; parameters are broadcast from rank 0
  /// at the start, each rank takes its contiguous slice of every batch (the batch is the
  /// global one, so the shuffled order equals a one-process run's) and draws its own
  /// regularizer points (rank-offset seeds, so a k-TV estimate stays unbiased, with
  /// world_size times the points), and the gradients are summed in buckets, weighted so that
  /// the step is that of the global batch's mean loss.  Rank 0 alone writes checkpoints;
  /// every rank resumes from them (each rank's generator state is in them).
  REGULA_ARG(DistributedContextPtr, distributed) = nullptr;
  REGULA_ARG(ScheduleOptions, schedule);
};

/// What fit() returns.
struct TrainResult {
  int64_t steps = 0;                      ///< steps completed
  std::string stop_reason;                ///< empty when all steps ran
  std::map<std::string, double> metrics;  ///< evaluated after training (best weights restored)
  double seconds = 0;                     ///< wall time of this fit() call
};

/// Trains a Model on a Dataset.
class MinibatchTrainer {
 public:
  MinibatchTrainer(models::Model model, std::vector<std::shared_ptr<regularizers::Regularizer>> regularizers,
                   MinibatchOptions options);
  ~MinibatchTrainer();

  /// Adds a callback (called in the order added; their state goes into checkpoints).
  void add_callback(std::shared_ptr<Callback> callback);
  /// Continue from this checkpoint (written by a trainer built the same way) at the next fit().
  void resume_from(const std::filesystem::path& checkpoint);

  /// Moves the data to the model's device and dtype, sets the regularizers up
  /// on the training inputs, and trains until `steps` or a callback stops it.  The training
  /// set may be empty when a regularizer carries the whole loss (a physics-informed loss):
  /// the data loss is then 0.
  TrainResult fit(const Dataset& data);

  /// One optimization step on a batch; returns {data loss, total penalty} as
  /// detached 0-dim device tensors.  The learning rate is set by fit().
  std::pair<torch::Tensor, torch::Tensor> step(const torch::Tensor& x, const torch::Tensor& y);

  /// Metrics of the current weights on data already on the model's device:
  /// train_mse (whole training set, when there is one), val_loss (MSE), test_mse,
  /// test_pearson and test_rel_l2 = ||pred - y|| / ||y|| (against the test targets; for
  /// synthetic data the clean function, for a PDE its solution).
  std::map<std::string, double> evaluate(const Dataset& data) const;

  /// Writes a checkpoint of everything fit() needs to continue exactly.
  void save_checkpoint(const std::filesystem::path& path) const;

  const models::Model& model() const { return model_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  int64_t step_count() const { return step_; }
  const MinibatchOptions& options() const { return options_; }

 private:
  std::pair<torch::Tensor, torch::Tensor> next_batch();
  void load_checkpoint(const std::filesystem::path& path);
  std::map<std::string, double> read_train_metrics();
  /// [sum_loss, sum_penalty, sum_terms...] since the last evaluation, summed over the ranks
  /// when data-parallel (a collective then).
  torch::Tensor running_sums() const;
  const core::DistributedContext* data_parallel() const;
  void average_gradients();

  models::Model model_;
  std::vector<std::shared_ptr<regularizers::Regularizer>> regularizers_;
  MinibatchOptions options_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  LrSchedule schedule_;
  CallbackList callbacks_;
  std::filesystem::path resume_path_;

  // Training state (all of it is checkpointed).
  int64_t step_ = 0;
  Dataset data_;                       // on the model's device
  int64_t batch_ = 0;                  // effective batch size
  torch::Tensor order_;                // this epoch's row order (device)
  int64_t cursor_ = 0;                 // next row of order_
  at::Generator shuffle_gen_;          // CPU generator of the row order
  torch::Tensor sum_loss_, sum_penalty_;  // since the last evaluation (device)
  std::map<std::string, torch::Tensor> sum_terms_;  // the regularizers' last_terms(), summed likewise
  int64_t sum_count_ = 0;
};

}  // namespace regula::trainers
