#include "trainers/optim.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include "core/errors.h"

namespace regula::trainers {
namespace {
void check(bool ok, const std::string& key, double value, const std::string& valid) {
  if (!ok) throw ConfigError(fmt::format("{} = {} is not valid: {}", key, value, valid));
}
void check_kind(const std::string& key, const std::string& kind, const std::vector<std::string>& kinds) {
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    throw ConfigError(fmt::format("{} = '{}' is not valid: use one of {}", key, kind, fmt::join(kinds, ", ")));
  }
}
}  // namespace

const std::vector<std::string>& optimizer_kinds() {
  static const std::vector<std::string> kinds{"sgd", "adam"};
  return kinds;
}

const std::vector<std::string>& schedule_kinds() {
  static const std::vector<std::string> kinds{"constant", "step", "cosine"};
  return kinds;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const OptimizerOptions& o) {
  check_kind("train.optimizer.kind", o.kind(), optimizer_kinds());
  check(o.lr() > 0 && std::isfinite(o.lr()), "train.optimizer.lr", o.lr(), "must be a positive number");
  if (o.kind() == "sgd") {
    check(o.momentum() >= 0 && o.momentum() < 1, "train.optimizer.momentum", o.momentum(), "must be in [0, 1)");
    if (o.nesterov() && o.momentum() == 0) {
      throw ConfigError("train.optimizer.nesterov = true needs train.optimizer.momentum > 0");
    }
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr()).momentum(o.momentum()).nesterov(o.nesterov()));
  }
  check(o.beta1() >= 0 && o.beta1() < 1, "train.optimizer.beta1", o.beta1(), "must be in [0, 1)");
  check(o.beta2() >= 0 && o.beta2() < 1, "train.optimizer.beta2", o.beta2(), "must be in [0, 1)");
  check(o.eps() > 0, "train.optimizer.eps", o.eps(), "must be > 0");
  return std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(o.lr()).betas({o.beta1(), o.beta2()}).eps(o.eps()));
}

LrSchedule::LrSchedule(ScheduleOptions options, double base_lr, int64_t total_steps)
    : options_(std::move(options)), base_lr_(base_lr), total_steps_(std::max<int64_t>(total_steps, 1)) {
  check_kind("train.schedule.kind", options_.kind(), schedule_kinds());
  check(options_.step_size() >= 1, "train.schedule.step_size", static_cast<double>(options_.step_size()), "must be >= 1");
  check(options_.gamma() > 0, "train.schedule.gamma", options_.gamma(), "must be > 0");
  check(options_.min_lr() >= 0 && options_.min_lr() <= base_lr, "train.schedule.min_lr", options_.min_lr(),
        "must be in [0, the base learning rate]");
  check(options_.warmup() >= 0, "train.schedule.warmup", static_cast<double>(options_.warmup()), "must be >= 0");
}

double LrSchedule::lr(int64_t step) const {
  double lr = base_lr_;
  if (options_.kind() == "step") {
    lr = base_lr_ * std::pow(options_.gamma(), static_cast<double>(step / options_.step_size()));
  } else if (options_.kind() == "cosine") {
    const double t = std::min<double>(static_cast<double>(step), static_cast<double>(total_steps_));
    lr = options_.min_lr() + (base_lr_ - options_.min_lr()) * 0.5 * (1.0 + std::cos(M_PI * t / total_steps_));
  }
  if (step < options_.warmup()) lr *= static_cast<double>(step + 1) / static_cast<double>(options_.warmup());
  return lr;
}

void LrSchedule::apply(torch::optim::Optimizer& optimizer, int64_t step) const {
  const double value = lr(step);
  for (auto& group : optimizer.param_groups()) group.options().set_lr(value);
}

}  // namespace regula::trainers
