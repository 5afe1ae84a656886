#pragma once
/// \file Optimizers (SGD, Adam) and learning-rate schedules (constant, step,
/// cosine) of the minibatch trainer.  A schedule is a pure function of the
/// step count, so restoring the step restores the learning rate exactly; the
/// optimizers' own state (momentum buffers, Adam moments and step counts)
/// travels in checkpoints through torch::optim's save/load.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/options.h"

namespace torch::optim { class Optimizer; }

namespace regula::trainers {

/// Options of the optimizer.
struct OptimizerOptions {
  /// `sgd` (with optional momentum / Nesterov) or `adam`.
  REGULA_ARG(std::string, kind) = "adam";
  /// Base learning rate (the schedule scales it).
  REGULA_ARG(double, lr) = 1e-2;
  /// SGD: momentum \mu in v \leftarrow \mu v + g, \theta \leftarrow \theta - \eta v.
  REGULA_ARG(double, momentum) = 0.0;
  /// SGD: Nesterov momentum (needs momentum > 0).
  REGULA_ARG(bool, nesterov) = false;
  /// Adam: \beta_1, \beta_2 and \epsilon.
  REGULA_ARG(double, beta1) = 0.9;
  REGULA_ARG(double, beta2) = 0.999;
  REGULA_ARG(double, eps) = 1e-8;
};

/// The kinds OptimizerOptions::kind accepts.
const std::vector<std::string>& optimizer_kinds();

/// Builds a LibTorch optimizer over `params`.  Invalid options are ConfigErrors.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const OptimizerOptions& options);

/// Options of the learning-rate schedule \eta_t at step t (0-based, before the step).
struct ScheduleOptions {
  /// `constant`: \eta_t = \eta.
  /// `step`: \eta_t = \eta \gamma^{\lfloor t / s \rfloor} with s = step_size.
  /// `cosine`: \eta_t = \eta_{min} + (\eta - \eta_{min})(1 + \cos(\pi t / T))/2 with T = total steps.
  /// Every kind first ramps linearly over `warmup` steps: \eta_t \cdot (t+1)/warmup.
  REGULA_ARG(std::string, kind) = "constant";
  REGULA_ARG(int64_t, step_size) = 1000;
  REGULA_ARG(double, gamma) = 0.1;
  REGULA_ARG(double, min_lr) = 0.0;
  REGULA_ARG(int64_t, warmup) = 0;
};

/// The kinds ScheduleOptions::kind accepts.
const std::vector<std::string>& schedule_kinds();

/// A learning-rate schedule over `total_steps` steps from `base_lr`.
class LrSchedule {
 public:
  LrSchedule(ScheduleOptions options, double base_lr, int64_t total_steps);
  /// The learning rate of step t (0-based).
  double lr(int64_t step) const;
  /// Sets the learning rate of every parameter group of `optimizer` for step t.
  void apply(torch::optim::Optimizer& optimizer, int64_t step) const;

 private:
  ScheduleOptions options_;
  double base_lr_;
  int64_t total_steps_;
};

}  // namespace regula::trainers
