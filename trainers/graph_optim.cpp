#include "trainers/graph_optim.h"

#include <fmt/format.h>

#include "core/checkpoint.h"
#include "core/errors.h"

namespace regula::trainers {

GraphSafeOptimizer::GraphSafeOptimizer(std::vector<torch::Tensor> params, double lr) : params_(std::move(params)) {
  if (params_.empty()) throw Error("optimizer: no parameters to optimize");
  if (!(lr > 0)) throw ConfigError(fmt::format("optimizer: learning rate {} is not valid: must be > 0", lr));
  const auto opts = torch::TensorOptions().dtype(torch::kDouble).device(params_.front().device());
  lr_ = torch::full({}, lr, opts);
  t_ = torch::zeros({}, opts);
  for (auto& p : params_) {
    // Gradients exist from the start, so their addresses stay fixed under graph replay.
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
  }
}

void GraphSafeOptimizer::zero_grad() {
  for (auto& p : params_) p.mutable_grad().zero_();
}

void GraphSafeOptimizer::set_lr(double lr) {
  if (!(lr > 0)) throw ConfigError(fmt::format("optimizer: learning rate {} is not valid: must be > 0", lr));
  lr_.fill_(lr);
}

std::vector<std::pair<std::string, torch::Tensor*>> GraphSafeOptimizer::state() { return {}; }

void GraphSafeOptimizer::save(core::CheckpointWriter& w, const std::string& prefix) const {
  w.tensor(prefix + "lr", lr_).tensor(prefix + "t", t_);
  for (auto& [name, tensor] : const_cast<GraphSafeOptimizer*>(this)->state()) w.tensor(prefix + name, *tensor);
}

void GraphSafeOptimizer::load(core::CheckpointReader& r, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  lr_.copy_(r.tensor(prefix + "lr"));
  t_.copy_(r.tensor(prefix + "t"));
  for (auto& [name, tensor] : state()) {
    const auto saved = r.tensor(prefix + name);
    if (!saved.sizes().equals(tensor->sizes())) {
      throw CheckpointError(fmt::format("optimizer state '{}' has another shape in the checkpoint", name));
    }
    tensor->copy_(saved);
  }
}

// --- SGD ----------------------------------------------------------------------

GraphSafeSGD::GraphSafeSGD(std::vector<torch::Tensor> params, GraphSafeSGDOptions options)
    : GraphSafeOptimizer(std::move(params), options.lr()), options_(options) {
  if (options_.momentum() < 0) throw ConfigError("optimizer: momentum must be >= 0");
  for (const auto& p : params_) momentum_.push_back(torch::zeros_like(p));
}

void GraphSafeSGD::step() {
  torch::NoGradGuard no_grad;
  // torch.optim.SGD starts the momentum buffer at the first gradient; with
  // b0 = 0 that is b1 = mu*0 + g, the same thing, without a host-side branch.
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    auto g = p.grad();
    if (options_.weight_decay() != 0) g = g.add(p, options_.weight_decay());
    if (options_.momentum() != 0) {
      momentum_[i].mul_(options_.momentum()).add_(g);
      g = momentum_[i];
    }
    p.sub_(g * lr_.to(p.scalar_type()));
  }
  t_.add_(1);
}

std::vector<std::pair<std::string, torch::Tensor*>> GraphSafeSGD::state() {
  std::vector<std::pair<std::string, torch::Tensor*>> out;
  for (std::size_t i = 0; i < momentum_.size(); ++i) out.emplace_back(fmt::format("momentum{}", i), &momentum_[i]);
  return out;
}

// --- Adam ---------------------------------------------------------------------

GraphSafeAdam::GraphSafeAdam(std::vector<torch::Tensor> params, GraphSafeAdamOptions options)
    : GraphSafeOptimizer(std::move(params), options.lr()), options_(options) {
  if (!(options_.beta1() >= 0 && options_.beta1() < 1 && options_.beta2() >= 0 && options_.beta2() < 1)) {
    throw ConfigError("optimizer: Adam betas must lie in [0, 1)");
  }
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p));
    exp_avg_sq_.push_back(torch::zeros_like(p));
  }
}

void GraphSafeAdam::step() {
  torch::NoGradGuard no_grad;
  t_.add_(1);
  // Bias corrections from the device step count: 1 - beta^t.
  const auto bc1 = 1.0 - torch::pow(options_.beta1(), t_);
  const auto bc2 = 1.0 - torch::pow(options_.beta2(), t_);
  const auto step_size = lr_ / bc1;
  const auto bc2_sqrt = bc2.sqrt();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    auto g = p.grad();
    if (options_.weight_decay() != 0) g = g.add(p, options_.weight_decay());
    exp_avg_[i].lerp_(g, 1.0 - options_.beta1());
    exp_avg_sq_[i].mul_(options_.beta2()).addcmul_(g, g, 1.0 - options_.beta2());
    const auto denom = (exp_avg_sq_[i].sqrt() / bc2_sqrt.to(p.scalar_type())).add_(options_.eps());
    p.addcdiv_(exp_avg_[i] * (-step_size).to(p.scalar_type()), denom);
  }
}

std::vector<std::pair<std::string, torch::Tensor*>> GraphSafeAdam::state() {
  std::vector<std::pair<std::string, torch::Tensor*>> out;
  for (std::size_t i = 0; i < exp_avg_.size(); ++i) {
    out.emplace_back(fmt::format("exp_avg{}", i), &exp_avg_[i]);
    out.emplace_back(fmt::format("exp_avg_sq{}", i), &exp_avg_sq_[i]);
  }
  return out;
}

}  // namespace regula::trainers
