#include "models/mlp.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>

#include "core/errors.h"
#include "core/matmul.h"
#include "core/run.h"
#include "models/activations.h"

namespace regula::models {

torch::TensorOptions parameter_options(const Model& model) {
  if (model.module) {
    for (const auto& p : model.module->parameters()) return p.options().requires_grad(false);
  }
  return torch::TensorOptions().dtype(torch::kFloat32).device(torch::kCPU);
}

MLPOptions::MLPOptions(std::vector<int64_t> widths) : widths_(std::move(widths)) {}

const std::vector<std::string>& init_names() {
  static const std::vector<std::string> names = {"default", "xavier_uniform", "xavier_normal",
                                                 "kaiming_uniform", "normal"};
  return names;
}

namespace {

void validate(const MLPOptions& o) {
  const auto& w = o.widths();
  if (w.size() < 2 || std::any_of(w.begin(), w.end(), [](int64_t v) { return v < 1; })) {
    throw ConfigError(fmt::format("invalid MLP 'widths' = [{}]: must be [in, hidden..., out] with at "
                                  "least two entries, all >= 1", fmt::join(w, ", ")));
  }
  const auto& acts = activation_names();
  if (std::find(acts.begin(), acts.end(), o.activation()) == acts.end()) {
    throw ConfigError(fmt::format("invalid MLP 'activation' = {}: must be one of {}", o.activation(),
                                  fmt::join(acts, ", ")));
  }
  const auto& inits = init_names();
  if (std::find(inits.begin(), inits.end(), o.init()) == inits.end()) {
    throw ConfigError(fmt::format("invalid MLP 'init' = {}: must be one of {}", o.init(),
                                  fmt::join(inits, ", ")));
  }
}

void initialize(torch::nn::Linear& layer, const std::string& scheme) {
  if (scheme == "default") return;
  torch::NoGradGuard no_grad;
  auto& w = layer->weight;
  if (scheme == "xavier_uniform") {
    torch::nn::init::xavier_uniform_(w);
  } else if (scheme == "xavier_normal") {
    torch::nn::init::xavier_normal_(w);
  } else if (scheme == "kaiming_uniform") {
    torch::nn::init::kaiming_uniform_(w, 0.0, torch::kFanIn, torch::kReLU);
  } else if (scheme == "normal") {
    w.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(w.size(1))));
  }
  if (layer->bias.defined()) layer->bias.zero_();
}

}  // namespace

MLPImpl::MLPImpl(MLPOptions options) : options_(std::move(options)) {
  validate(options_);
  const auto& w = options_.widths();
  {
    // Weights, gradients and two optimizer moments in float32 at least: refuse before allocating.
    double params = 0;
    for (std::size_t i = 0; i + 1 < w.size(); ++i) params += static_cast<double>(w[i] + 1) * static_cast<double>(w[i + 1]);
    core::check_fits_in_memory(16.0 * params, fmt::format("model.hidden ({:.3g} parameters)", params));
  }
  torch::nn::Sequential seq;
  for (std::size_t i = 0; i + 1 < w.size(); ++i) {
    torch::nn::Linear linear(torch::nn::LinearOptions(w[i], w[i + 1]).bias(options_.bias()));
    initialize(linear, options_.init());
    seq->push_back(linear);
    if (i + 2 < w.size()) seq->push_back(make_activation(options_.activation()));
  }
  layers_ = register_module("layers", seq);
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  // The Linears through core::linear (the fast CPU product), everything else as registered.
  torch::Tensor h = x;
  for (auto& layer : *layers_) {
    if (const auto* linear = layer.ptr()->as<torch::nn::LinearImpl>()) {
      h = core::linear(h, linear->weight, linear->bias);
    } else {
      h = layer.forward<torch::Tensor>(h);
    }
  }
  return h;
}

torch::nn::Sequential& MLPImpl::layers() { return layers_; }

const MLPOptions& MLPImpl::options() const { return options_; }

Model as_model(MLP mlp) { return as_model(mlp, "mlp"); }

}  // namespace regula::models
