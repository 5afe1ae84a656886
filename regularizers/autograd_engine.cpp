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
