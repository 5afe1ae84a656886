#include <torch/autograd.h>

#include "core/errors.h"
#include "regularizers/derivatives.h"

namespace regula::regularizers {

std::string engine_name(Engine engine) {
  switch (engine) {
    case Engine::kAuto: return "auto";
    case Engine::kTaylor: return "taylor";
    case Engine::kReverse: return "reverse";
    case Engine::kAutograd: return "autograd";
  }
  return "?";
}

std::string engine_description(Engine engine) {
  switch (engine) {
    case Engine::kTaylor: return "Taylor-mode";
    case Engine::kReverse: return "reverse-mode";
    case Engine::kAutograd: return "nested-autograd";
    case Engine::kAuto: break;
  }
  return "auto";
}

Engine parse_engine(const std::string& name, const std::string& key) {
  if (name == "auto") return Engine::kAuto;
  if (name == "taylor") return Engine::kTaylor;
  if (name == "reverse") return Engine::kReverse;
  if (name == "autograd") return Engine::kAutograd;
  throw ConfigError(fmt::format("invalid '{}' = {}: must be one of auto, taylor, reverse, autograd", key, name));
}

torch::Tensor pure_partials_autograd(const models::Model& model, const torch::Tensor& points,
                                     const torch::Tensor& coords, int64_t order) {
  TORCH_CHECK(order >= 1, "order must be >= 1, got ", order);
  const int64_t M = points.size(0), S = coords.size(0);
  // Input derivatives need a graph even when the caller evaluates under torch::NoGradGuard.
  torch::AutoGradMode grad_mode(true);
  // Block s of the replicated batch differentiates along coordinate coords[s].
  auto X = points.detach().repeat({S, 1}).requires_grad_(true);
  const auto F = model.forward(X);
  TORCH_CHECK(F.dim() == 2 && F.size(0) == S * M, "model '", model.name,
              "' must map [batch, d] to [batch, p], got output ", F.sizes());
  const int64_t p = F.size(1);
  const auto index = coords.repeat_interleave(M).unsqueeze(1);  // [S*M, 1]
  std::vector<torch::Tensor> per_output;
  for (int64_t o = 0; o < p; ++o) {
    torch::Tensor h = F.select(1, o);
    for (int64_t r = 0; r < order; ++r) {
      torch::Tensor g;
      if (h.requires_grad()) {
        g = torch::autograd::grad({h.sum()}, {X}, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                  /*allow_unused=*/true)[0];
      }
      // A derivative that vanishes identically (e.g. relu at order >= 2) is zero from here on.
      if (!g.defined()) {
        h = torch::zeros_like(h).detach();
        break;
      }
      h = g.gather(1, index).squeeze(1);
    }
    per_output.push_back(h);
  }
  return torch::stack(per_output, 1).view({S, M, p}).permute({1, 0, 2});
}

std::vector<torch::Tensor> plan_parameters(const TaylorPlan& plan) {
  std::vector<torch::Tensor> params;
  for (const auto& layer : plan.layers) {
    if (!layer.is_linear()) continue;
    params.push_back(layer.weight);
    if (layer.bias.defined()) params.push_back(layer.bias);
  }
  return params;
}

int64_t plan_outputs(const TaylorPlan& plan) {
  for (auto it = plan.layers.rbegin(); it != plan.layers.rend(); ++it)
    if (it->is_linear()) return it->weight.size(0);
  return plan.input_dim;
}

Engine fastest_engine(const TaylorPlan& plan, int64_t order, int64_t coordinates) {
  if (!plan.supported()) return Engine::kAutograd;
  if (order != 1) return Engine::kTaylor;
  return 2 + 3 * plan_outputs(plan) <= 3 * (1 + coordinates) ? Engine::kReverse : Engine::kTaylor;
}

EngineChoice resolve_engine(const models::Model& model, Engine requested, int64_t order, int64_t directions,
                            const std::string& who, bool allow_reverse) {
  const std::string requested_name = engine_name(requested);
  const auto cannot = [&](const std::string& why) {
    return ConfigError(fmt::format("{} 'engine' = {}: {}; use engine auto or autograd", who, requested_name, why));
  };
  if (requested == Engine::kReverse && (order != 1 || !allow_reverse)) {
    throw cannot(allow_reverse ? fmt::format("reverse mode computes first derivatives only, but the order is {}", order)
                               : std::string("reverse mode computes pure first derivatives only"));
  }
  if (requested == Engine::kAutograd) return {Engine::kAutograd, "requested (engine: autograd)"};
  const auto plan = taylor_plan(model);
  if (!plan.supported()) {
    if (requested != Engine::kAuto) throw cannot(fmt::format("model '{}' is not supported: {}", model.name, plan.unsupported));
    return {Engine::kAutograd, "model '" + model.name + "' is not Taylor-mode capable: " + plan.unsupported};
  }
  // Taylor and reverse mode walk the module's layers: check they compute what model.forward does.
  {
    const auto popts = models::parameter_options(model);
    torch::NoGradGuard no_grad;
    const auto z = torch::rand({4, plan.input_dim}, popts);
    const auto a = model.forward(z), b = taylor_forward(plan, z);
    if (a.sizes() != b.sizes() || !torch::allclose(a, b, 1e-4, 1e-5)) {
      if (requested != Engine::kAuto) throw cannot(fmt::format("model '{}' computes something other than its layer sequence", model.name));
      return {Engine::kAutograd, "model '" + model.name + "' forward differs from its layer sequence"};
    }
  }
  const std::string layers = "model '" + model.name + "' is a sequence of Linear and supported activations";
  if (requested != Engine::kAuto) return {requested, "requested (engine: " + requested_name + "); " + layers};
  Engine engine = fastest_engine(plan, order, directions);
  if (engine == Engine::kReverse && !allow_reverse) engine = Engine::kTaylor;
  if (engine == Engine::kReverse) return {engine, layers + "; order 1: one reverse-mode input gradient gives every coordinate"};
  if (order == 1 && allow_reverse) {
    return {engine, layers + fmt::format("; order 1 with {} outputs: Taylor mode multiplies fewer rows than reverse mode",
                                         plan_outputs(plan))};
  }
  return {engine, layers + fmt::format("; order {}: Taylor mode", order)};
}

torch::Tensor pure_partials(const models::Model& model, const torch::Tensor& points,
                            const torch::Tensor& coords, int64_t order, Engine engine) {
  if (engine == Engine::kAutograd) return pure_partials_autograd(model, points, coords, order);
  const auto plan = taylor_plan(model);
  if (!plan.supported()) {
    if (engine != Engine::kAuto) {
      throw ConfigError(fmt::format("k-TV 'engine' = {} cannot handle model '{}': {}; use engine "
                                    "auto or autograd", engine_name(engine), model.name, plan.unsupported));
    }
    return pure_partials_autograd(model, points, coords, order);
  }
  if (engine == Engine::kAuto) engine = fastest_engine(plan, order, coords.size(0));
  if (engine == Engine::kReverse) {
    if (order != 1) {
      throw ConfigError(fmt::format("k-TV 'engine' = reverse computes first derivatives only, but 'order' = {}; "
                                    "use engine auto, taylor or autograd", order));
    }
    return pure_partials_reverse(plan, points, coords, order);
  }
  return pure_partials_taylor(plan, points, coords, order);
}

}  // namespace regula::regularizers
