#include "models/activations.h"

#include <mutex>

#include <torch/nn/modules/activation.h>

#include "core/errors.h"
#include "core/logging.h"

namespace regula::models {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = {"tanh", "sigmoid", "softplus", "sin", "silu", "gelu", "relu"};
  return names;
}

torch::nn::AnyModule make_activation(const std::string& name) {
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "sigmoid") return torch::nn::AnyModule(torch::nn::Sigmoid());
  if (name == "softplus") return torch::nn::AnyModule(torch::nn::Softplus());
  if (name == "sin") return torch::nn::AnyModule(Sin());
  if (name == "silu") return torch::nn::AnyModule(torch::nn::SiLU());
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  if (name == "relu") {
    static std::once_flag warned;
    std::call_once(warned, [] {
      core::log_warn("activation 'relu' has zero derivatives of order >= 2: a k-TV penalty with "
                     "order >= 2 cannot see it; use tanh, sigmoid, softplus, sin, silu or gelu");
    });
    return torch::nn::AnyModule(torch::nn::ReLU());
  }
  throw ConfigError(fmt::format("unknown activation '{}': must be one of {}", name,
                                fmt::join(activation_names(), ", ")));
}

}  // namespace regula::models
