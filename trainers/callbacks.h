#pragma once
/// \file Trainer callbacks: what a training loop tells the outside world,
/// and the early-stopping rule shared by every trainer.
///
/// A trainer calls `on_train_begin`, then `on_step_end` after every step and
/// `on_eval_end` after every evaluation (with fresh `metrics`), then
/// `on_train_end` whatever stopped training.  A callback stops training by
/// setting `state.stop`.  Callbacks with state save it into checkpoints so
/// that `--resume` continues exactly.
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/options.h"

namespace torch::nn { class Module; }
namespace regula::core { class CheckpointWriter; class CheckpointReader; class CsvWriter; }

namespace regula::trainers {

/// What callbacks see of a training run.
struct TrainState {
  int64_t step = 0;                        ///< steps completed
  int64_t max_steps = 0;                   ///< planned number of steps
  std::map<std::string, double> metrics;   ///< latest evaluated metrics (host values)
  torch::nn::Module* model = nullptr;      ///< the model being trained
  bool stop = false;                       ///< set by a callback to stop training
  std::string stop_reason;                 ///< why training stopped, for the summary
};

/// Base class of callbacks; every hook is optional.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(TrainState&) {}
  virtual void on_step_end(TrainState&) {}
  virtual void on_eval_end(TrainState&) {}
  virtual void on_train_end(TrainState&) {}
  /// Saves this callback's state under `prefix` (for exact resume).
  virtual void save(core::CheckpointWriter&, const std::string& prefix) const {}
  virtual void load(core::CheckpointReader&, const std::string& prefix) {}
};

/// Calls each callback in order.
class CallbackList {
 public:
  void add(std::shared_ptr<Callback> cb) { callbacks_.push_back(std::move(cb)); }
  void train_begin(TrainState& s) { for (auto& c : callbacks_) c->on_train_begin(s); }
  void step_end(TrainState& s) { for (auto& c : callbacks_) c->on_step_end(s); }
  void eval_end(TrainState& s) { for (auto& c : callbacks_) c->on_eval_end(s); }
  void train_end(TrainState& s) { for (auto& c : callbacks_) c->on_train_end(s); }
  void save(core::CheckpointWriter& w) const;
  void load(core::CheckpointReader& r);
  bool empty() const { return callbacks_.empty(); }

 private:
  std::vector<std::shared_ptr<Callback>> callbacks_;
};

/// Options of EarlyStopping (PyTorch Lightning semantics).
struct EarlyStoppingOptions {
  /// Metric to watch, e.g. "val_loss".
  REGULA_ARG(std::string, monitor) = "val_loss";
  /// "min": lower is better; "max": higher is better.
  REGULA_ARG(std::string, mode) = "min";
  /// Evaluations without improvement before stopping.
  REGULA_ARG(int64_t, patience) = 10;
  /// An improvement must beat the best by more than this.
  REGULA_ARG(double, min_delta) = 0.0;
  /// Stop at once when the monitored value is NaN or infinite.
  REGULA_ARG(bool, check_finite) = true;
  /// Restore the best weights at the end, whatever stopped training.
  REGULA_ARG(bool, restore_best) = true;
};

/// Options of DivergenceCheck.
struct DivergenceCheckOptions {
  /// Metric to watch (lower is better).
  REGULA_ARG(std::string, monitor) = "train_loss";
  /// Diverged when the metric is not finite or exceeds this factor times its first value.
  REGULA_ARG(double, factor) = 1e6;
  /// What to change, for the message (e.g. "a smaller train.optimizer.lr").
  REGULA_ARG(std::string, fix) = "a smaller learning rate";
};

/// The divergence rule every trainer follows (the batched GD engine applies the same
/// rule per run on the device, with masks): training has diverged when `monitor` is not
/// finite or exceeds `factor` times its first evaluated value.  Throws a
/// DivergenceError naming the step, the value and the fix; callbacks' on_train_end
/// does not run, but checkpoints already written stay valid.
class DivergenceCheck : public Callback {
 public:
  explicit DivergenceCheck(DivergenceCheckOptions options = {});
  void on_eval_end(TrainState& s) override;
  void save(core::CheckpointWriter& w, const std::string& prefix) const override;
  void load(core::CheckpointReader& r, const std::string& prefix) override;

 private:
  DivergenceCheckOptions options_;
  double first_ = -1;
};

/// Stops training when `monitor` has not improved for `patience` evaluations,
/// and restores the weights of the best evaluation at the end.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(TrainState& s) override;
  void on_eval_end(TrainState& s) override;
  void on_train_end(TrainState& s) override;
  void save(core::CheckpointWriter& w, const std::string& prefix) const override;
  void load(core::CheckpointReader& r, const std::string& prefix) override;

  const EarlyStoppingOptions& options() const { return options_; }
  double best() const { return best_; }
  int64_t best_step() const { return best_step_; }
  /// Step at which it stopped training (-1 if it did not).
  int64_t stopped_step() const { return stopped_step_; }
  /// Whether `value` improves on the best so far.
  bool improves(double value) const;

 private:
  EarlyStoppingOptions options_;
  double best_;
  int64_t best_step_ = -1;
  int64_t wait_ = 0;
  int64_t stopped_step_ = -1;
  std::vector<torch::Tensor> best_weights_;  // parameters then buffers, in module order
};

/// Appends `step` and every metric to a CSV (columns fixed at the first eval).
/// On resume it keeps the rows logged up to the checkpoint and appends after them.
class CsvLogger : public Callback {
 public:
  explicit CsvLogger(std::string path);
  ~CsvLogger() override;
  void on_eval_end(TrainState& s) override;
  void save(core::CheckpointWriter& w, const std::string& prefix) const override;
  void load(core::CheckpointReader& r, const std::string& prefix) override;

 private:
  std::string path_;
  std::unique_ptr<core::CsvWriter> csv_;
  int64_t rows_ = 0;        // rows written so far
  int64_t keep_rows_ = -1;  // on resume: rows of the existing file to keep
};

/// A progress bar (terminal) or periodic lines (logs) over `max_steps`,
/// showing the latest metrics.
class ProgressBar : public Callback {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar() override;
  void on_train_begin(TrainState& s) override;
  void on_step_end(TrainState& s) override;
  void on_train_end(TrainState& s) override;

 private:
  std::string label_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Snapshot of a module's parameters and buffers (detached clones).
std::vector<torch::Tensor> snapshot_weights(torch::nn::Module& m);
/// Copies a snapshot back into the module (in place).
void restore_weights(torch::nn::Module& m, const std::vector<torch::Tensor>& weights);

}  // namespace regula::trainers
