#pragma once
/// \file Multi-layer perceptron with any widths, a named activation, optional bias and init scheme.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "core/options.h"
#include "models/model.h"

namespace regula::models {

/// Options of an MLP: `MLPOptions({2, 100, 100, 1}).activation("sigmoid").init("xavier_uniform")`.
struct MLPOptions {
  /// `widths` = [in, hidden..., out]: at least two positive entries.
  explicit MLPOptions(std::vector<int64_t> widths);
  /// Layer widths [in, hidden..., out], e.g. {2, 100, 100, 1}.
  REGULA_ARG(std::vector<int64_t>, widths);
  /// Activation between layers: tanh | sigmoid | softplus | sin | silu | gelu | relu.
  REGULA_ARG(std::string, activation) = "tanh";
  /// Whether the Linear layers carry a bias.
  REGULA_ARG(bool, bias) = true;
  /// Weight init: default (LibTorch's Linear init) | xavier_uniform | xavier_normal |
  /// kaiming_uniform | normal (N(0, 1/fan_in)).  All but `default` set biases to zero.
  REGULA_ARG(std::string, init) = "default";
};

/// The init schemes MLPOptions::init accepts.
const std::vector<std::string>& init_names();

/// f(x) = W_L s(... s(W_1 x + b_1) ...) + b_L: Linear, activation, Linear, ..., Linear (no final
/// activation).  Invalid options are ConfigErrors naming the option.
class MLPImpl : public torch::nn::Module {
 public:
  explicit MLPImpl(MLPOptions options);
  /// [batch, widths.front()] -> [batch, widths.back()].
  torch::Tensor forward(const torch::Tensor& x);
  /// Linear, activation, Linear, ..., Linear.
  torch::nn::Sequential& layers();
  const MLPOptions& options() const;

 private:
  MLPOptions options_;
  torch::nn::Sequential layers_{nullptr};
};
TORCH_MODULE(MLP);

/// Wraps an MLP as a Model named "mlp".
Model as_model(MLP mlp);

/// Wraps any module (holder or shared_ptr) with a forward(Tensor) -> Tensor as a Model.
template <class M>
Model as_model(M module, std::string name) {
  Model model;
  if constexpr (torch::detail::is_module_holder<M>::value) {
    model.module = module.ptr();
  } else {
    model.module = module;  // a std::shared_ptr to a module
  }
  model.forward = [m = module](const torch::Tensor& x) mutable { return m->forward(x); };
  model.name = std::move(name);
  return model;
}

}  // namespace regula::models
