#include <cmath>

#include <torch/autograd.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "core/errors.h"
#include "models/activations.h"
#include "models/mlp.h"
#include "regularizers/derivatives.h"
#include "core/matmul.h"

namespace regula::regularizers {

namespace {

bool read_activation(const std::shared_ptr<torch::nn::Module>& m, TaylorLayer& layer, std::string& why) {
  using taylor::Activation;
  if (std::dynamic_pointer_cast<torch::nn::TanhImpl>(m)) return layer.activation = Activation::kTanh, true;
  if (std::dynamic_pointer_cast<torch::nn::SigmoidImpl>(m)) return layer.activation = Activation::kSigmoid, true;
  if (std::dynamic_pointer_cast<models::SinImpl>(m)) return layer.activation = Activation::kSin, true;
  if (std::dynamic_pointer_cast<torch::nn::SiLUImpl>(m)) return layer.activation = Activation::kSilu, true;
  if (std::dynamic_pointer_cast<torch::nn::ReLUImpl>(m)) return layer.activation = Activation::kRelu, true;
  if (auto sp = std::dynamic_pointer_cast<torch::nn::SoftplusImpl>(m)) {
    layer.activation = Activation::kSoftplus;
    layer.params.beta = sp->options.beta();
    layer.params.threshold = sp->options.threshold();
    return true;
  }
  if (auto g = std::dynamic_pointer_cast<torch::nn::GELUImpl>(m)) {
    if (g->options.approximate() != "none") {
      why = "its GELU uses approximate='" + g->options.approximate() + "' (only the exact GELU has a Taylor rule)";
      return false;
    }
    return layer.activation = Activation::kGelu, true;
  }
  why = "layer '" + m->name() + "' has no Taylor rule (supported: Linear, tanh, sigmoid, softplus, sin, silu, gelu, relu)";
  return false;
}

// Pushes the coefficient stack X [1 + K S, M, width] (S directions sharing x_0) through the plan.
torch::Tensor propagate(const TaylorPlan& plan, torch::Tensor X, int64_t directions) {
  for (const auto& layer : plan.layers) {
    if (layer.is_linear()) {
      // One product for every coefficient, point and direction; the bias shifts x_0 (the first
      // M rows) only.
      const auto& W = layer.weight;
      const int64_t R = X.size(0), M = X.size(1);
      X = core::linear(X.reshape({R * M, X.size(2)}), W, layer.bias, M).view({R, M, W.size(0)});
    } else {
      X = taylor::taylor_activation(X, layer.activation, layer.params, directions);
    }
  }
  return X;
}

}  // namespace

TaylorPlan taylor_plan(const models::Model& model) {
  TaylorPlan plan;
  std::shared_ptr<torch::nn::SequentialImpl> seq;
  if (auto mlp = std::dynamic_pointer_cast<models::MLPImpl>(model.module)) {
    seq = mlp->layers().ptr();
  } else {
    seq = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(model.module);
  }
  if (!seq) {
    plan.unsupported = "its module is neither an MLP nor a torch::nn::Sequential";
    return plan;
  }
  std::vector<TaylorLayer> layers;
  for (std::size_t i = 0; i < seq->size(); ++i) {
    auto m = seq->ptr(i);
    TaylorLayer layer;
    if (auto lin = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m)) {
      layer.weight = lin->weight;
      layer.bias = lin->bias;
    } else if (!read_activation(m, layer, plan.unsupported)) {
      return plan;
    }
    layers.push_back(std::move(layer));
  }
  return checked_plan(std::move(layers));
}

TaylorPlan checked_plan(std::vector<TaylorLayer> layers) {
  TaylorPlan plan;
  int64_t width = -1;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& layer = layers[i];
    if (!layer.is_linear()) continue;
    const auto& W = layer.weight;
    if (W.dim() != 2 || (layer.bias.defined() && (layer.bias.dim() != 1 || layer.bias.size(0) != W.size(0)))) {
      plan.unsupported = fmt::format("layer {} is a Linear with weight {} and bias {} (need [out, in] and [out])", i,
                                     fmt::join(W.sizes(), "x"),
                                     layer.bias.defined() ? fmt::format("{}", fmt::join(layer.bias.sizes(), "x"))
                                                          : std::string("none"));
      return plan;
    }
    const int64_t in = W.size(1);
    if (width >= 0 && in != width) {
      plan.unsupported = fmt::format("layer {} expects {} inputs but gets {}", i, in, width);
      return plan;
    }
    if (width < 0) plan.input_dim = in;
    width = W.size(0);
  }
  if (plan.input_dim == 0) {
    plan.unsupported = "it has no Linear layer";
    return plan;
  }
  plan.layers = std::move(layers);
  return plan;
}

torch::Tensor taylor_forward(const TaylorPlan& plan, const torch::Tensor& points) {
  return propagate(plan, points.unsqueeze(0), 1).squeeze(0);
}

torch::Tensor directional_taylor(const TaylorPlan& plan, const torch::Tensor& points,
                                 const torch::Tensor& directions, int64_t order) {
  TORCH_CHECK(plan.supported(), "Taylor mode unsupported: ", plan.unsupported);
  TORCH_CHECK(order >= 1, "order must be >= 1, got ", order);
  const int64_t M = points.size(0), d = points.size(1), S = directions.size(0);
  TORCH_CHECK(directions.dim() == 2 && directions.size(1) == d, "directions must be [S, ", d, "], got ",
              directions.sizes());
  const auto opts = points.options().requires_grad(false);
  // Coefficient stack [1 + k S, M, d]: slab 0 = z (x_0, shared by the directions), slab
  // 1 + (j-1) S + s = x_j along v_s: x_1 = v_s, x_j = 0 for j >= 2.
  auto X = torch::cat({points.detach().unsqueeze(0), directions.to(opts).unsqueeze(1).expand({S, M, d}),
                       torch::zeros({(order - 1) * S, M, d}, opts)});
  return propagate(plan, X, S);
}

torch::Tensor pure_partials_taylor(const TaylorPlan& plan, const torch::Tensor& points,
                                   const torch::Tensor& coords, int64_t order) {
  const int64_t d = points.size(1), S = coords.size(0);
  // e_{c_s} as rows [S, d] (a comparison: one_hot would check its input with a host sync).
  const auto dirs = (coords.unsqueeze(1) == torch::arange(d, coords.options())).to(points.scalar_type());
  const auto Y = directional_taylor(plan, points, dirs, order);
  // d^k f / dx_{c_s}^k = k! y_k: slabs 1 + (k-1) S .. k S  ->  [S, M, p]  ->  [M, S, p]
  return (Y.slice(0, 1 + (order - 1) * S, 1 + order * S) * taylor::factorial(order)).permute({1, 0, 2});
}

}  // namespace regula::regularizers
