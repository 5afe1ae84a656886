#pragma once
/// \file The Model handle: what trainers, the model registry and the regularizers pass around.
#include <functional>
#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace regula::models {

/// A trainable function R^d -> R^p: a torch module plus how to call it.  Every model the
/// trainer, the registry and the regularizers handle is passed around as a Model.
///
/// `module` owns the parameters (used for `.to()`, optimizers, save/load); `forward` maps a
/// batch [batch, d] to [batch, p].  The k-TV regularizer uses its fast Taylor-mode engine when
/// `module` is an MLP (or a torch::nn::Sequential of Linear layers and supported activations)
/// and assumes then that `forward` is that module's forward.
struct Model {
  std::shared_ptr<torch::nn::Module> module;                    ///< parameters, .to(), save/load
  std::function<torch::Tensor(const torch::Tensor&)> forward;  ///< [batch, d] -> [batch, p]
  std::string name;                                             ///< for messages ("mlp", "my_net")
};

/// The dtype and device of a model's first parameter (float32 on the CPU when it has none).
torch::TensorOptions parameter_options(const Model& model);

}  // namespace regula::models
