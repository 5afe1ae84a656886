#pragma once
/// \file Elementwise activations by name, for MLPs: tanh, sigmoid, softplus, sin, silu, gelu, relu.
#include <string>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/types.h>

namespace regula::models {

/// y = sin(x), as a module (LibTorch has none).
class SinImpl : public torch::nn::Cloneable<SinImpl> {
 public:
  SinImpl() = default;
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& x) { return torch::sin(x); }
};
TORCH_MODULE(Sin);

/// The activation names an MLP accepts.
const std::vector<std::string>& activation_names();

/// A fresh activation module for `name` (one of activation_names()); ConfigError otherwise.
/// `relu` logs a one-time warning: its derivatives of order >= 2 vanish, so a k-TV penalty
/// with k >= 2 sees nothing.
torch::nn::AnyModule make_activation(const std::string& name);

}  // namespace regula::models
