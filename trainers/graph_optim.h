#pragma once
/// \file Optimizers whose whole state lives in device tensors.
///
/// torch::optim::Adam/SGD keep the step count (and so Adam's bias
/// corrections) and the learning rate on the host.  A CUDA graph captures the
/// kernels of one step() with those host values baked in, so replaying it
/// would repeat step 1's bias correction forever.  These optimizers keep the
/// step count and the learning rate in 0-dim device tensors and update them
/// with tensor ops only: no host reads, no host-dependent launches, so
/// `step()` can be captured once and replayed.  Eager results equal
/// LibTorch's optimizers (tests/test_graph_optim.cpp, float64).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/options.h"

namespace regula::core { class CheckpointWriter; class CheckpointReader; }

namespace regula::trainers {

/// Options of GraphSafeSGD (torch.optim.SGD semantics, dampening 0).
struct GraphSafeSGDOptions {
  explicit GraphSafeSGDOptions(double lr) : lr_(lr) {}
  /// Learning rate \f$\eta\f$.
  REGULA_ARG(double, lr);
  /// Heavy-ball momentum \f$\mu\f$: \f$b \leftarrow \mu b + g,\; p \leftarrow p - \eta b\f$.
  REGULA_ARG(double, momentum) = 0.0;
  /// L2 weight decay added to the gradient: \f$g \leftarrow g + \lambda p\f$.
  REGULA_ARG(double, weight_decay) = 0.0;
};

/// Options of GraphSafeAdam (torch.optim.Adam semantics, no amsgrad).
struct GraphSafeAdamOptions {
  explicit GraphSafeAdamOptions(double lr = 1e-3) : lr_(lr) {}
  REGULA_ARG(double, lr);
  REGULA_ARG(double, beta1) = 0.9;
  REGULA_ARG(double, beta2) = 0.999;
  REGULA_ARG(double, eps) = 1e-8;
  /// L2 weight decay added to the gradient (Adam, not AdamW).
  REGULA_ARG(double, weight_decay) = 0.0;
};

/// Common part: parameters, a device step counter and a device learning rate.
class GraphSafeOptimizer {
 public:
  virtual ~GraphSafeOptimizer() = default;
  /// Performs one update from the parameters' .grad(); captures cleanly.
  virtual void step() = 0;
  /// Zeroes gradients in place (keeps their storage, as graphs require).
  void zero_grad();
  /// Sets the learning rate by writing into the device tensor (no re-capture needed).
  void set_lr(double lr);
  /// Learning rate as a 0-dim device tensor (read it only when logging).
  const torch::Tensor& lr() const { return lr_; }
  /// Steps taken, as a 0-dim device tensor.
  const torch::Tensor& step_count() const { return t_; }
  const std::vector<torch::Tensor>& parameters() const { return params_; }
  /// Saves and restores every state tensor (for exact resume).
  void save(core::CheckpointWriter& w, const std::string& prefix) const;
  void load(core::CheckpointReader& r, const std::string& prefix);

 protected:
  GraphSafeOptimizer(std::vector<torch::Tensor> params, double lr);
  /// Named state tensors of the subclass (buffers per parameter), for save/load.
  virtual std::vector<std::pair<std::string, torch::Tensor*>> state();
  std::vector<torch::Tensor> params_;
  torch::Tensor lr_;  // 0-dim, float64, on the parameters' device
  torch::Tensor t_;   // 0-dim, float64, on the parameters' device
};

/// SGD with momentum; graph-capturable.
class GraphSafeSGD : public GraphSafeOptimizer {
 public:
  GraphSafeSGD(std::vector<torch::Tensor> params, GraphSafeSGDOptions options);
  void step() override;

 private:
  std::vector<std::pair<std::string, torch::Tensor*>> state() override;
  GraphSafeSGDOptions options_;
  std::vector<torch::Tensor> momentum_;
};

/// Adam with bias corrections computed from the device step count; graph-capturable.
class GraphSafeAdam : public GraphSafeOptimizer {
 public:
  GraphSafeAdam(std::vector<torch::Tensor> params, GraphSafeAdamOptions options);
  void step() override;

 private:
  std::vector<std::pair<std::string, torch::Tensor*>> state() override;
  GraphSafeAdamOptions options_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
};

}  // namespace regula::trainers
