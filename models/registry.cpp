#include "models/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"
#include "core/logging.h"
#include "core/registry.h"
#include "models/mlp.h"

namespace regula::models {
namespace {

// MLP from {hidden: [100, 100], activation: tanh, bias: true, init: default}.
Model make_mlp(core::Section s, int64_t input_dim, int64_t output_dim) {
  const auto hidden = s.get<std::vector<int64_t>>("hidden", {100});
  for (auto w : hidden) s.check(w >= 1, "hidden", "every hidden width must be >= 1, e.g. [100, 100]");
  std::vector<int64_t> widths{input_dim};
  widths.insert(widths.end(), hidden.begin(), hidden.end());
  widths.push_back(output_dim);
  const auto activation = s.get<std::string>("activation", "tanh");
  s.check_choice("activation", activation, {"tanh", "sigmoid", "softplus", "sin", "silu", "gelu", "relu"});
  const auto init = s.get<std::string>("init", "default");
  s.check_choice("init", init, init_names());
  if (activation == "relu") {
    core::log_warn("model.activation = relu has zero derivatives of order >= 2: k-TV with k >= 2 cannot act on it");
  }
  MLP mlp(MLPOptions(widths).activation(activation).bias(s.get<bool>("bias", true)).init(init));
  // input_gain g scales the first layer's initial weights and bias: features s(g (w x + b)) are
  // g times steeper, a flexible (easily overfitting) network for small inputs such as [-1/2, 1/2].
  const auto gain = s.get<double>("input_gain", 1.0);
  s.check(gain > 0, "input_gain", "must be > 0 (1: the init scheme as is)");
  if (gain != 1.0) {
    torch::NoGradGuard no_grad;
    for (auto& p : mlp->layers()[0]->parameters()) p.mul_(gain);
  }
  return as_model(mlp);
}

core::Registry<ModelFactory>& registry() {
  static core::Registry<ModelFactory> r({{"mlp", make_mlp}});
  return r;
}

}  // namespace

void register_model(const std::string& kind, ModelFactory factory) { registry().add(kind, std::move(factory)); }

std::vector<std::string> registered_models() { return registry().kinds(); }

Model make_model(core::Section section, int64_t input_dim, int64_t output_dim) {
  const auto kind = section.get<std::string>("kind", "mlp");
  const ModelFactory factory = registry().find(kind);
  if (!factory) {
    throw ConfigError(fmt::format("{}: unknown model kind '{}': registered kinds are {} (register your own with "
                                  "REGULA_REGISTER_MODEL, see examples/custom_model.cpp)",
                                  section.path("kind"), kind, fmt::join(registered_models(), ", ")));
  }
  Model model = factory(section, input_dim, output_dim);
  if (!model.module || !model.forward) {
    throw ConfigError(fmt::format("model kind '{}' built an empty Model (no module or no forward)", kind));
  }
  if (model.name.empty()) model.name = kind;
  return model;
}

}  // namespace regula::models
