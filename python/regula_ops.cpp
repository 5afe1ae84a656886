// The k-TV penalty and its pure partials as PyTorch operators (`torch.ops.regula.*`), for
// torch.ops.load_library(".../libregula_ops.so").  The network comes as its layer list plus the
// Linear parameters (the tensors themselves, so autograd reaches them); the kernels build a
// TaylorPlan on those tensors and run the engines of regularizers/ (Taylor mode, reverse mode at
// k = 1).  They are CompositeImplicitAutograd: the engines' own autograd nodes give the parameter
// gradients, on whatever device the tensors live (the CPU's fused kernels, tensor expressions
// elsewhere).  python/regula_torch wraps them for nn.Sequential models.
#include <optional>
#include <string>
#include <vector>

#include <torch/library.h>

#include "core/matmul.h"
#include "core/errors.h"
#include "regularizers/box.h"
#include "regularizers/derivatives.h"
#include "regularizers/ktv.h"

namespace regula::regularizers {
namespace {

using taylor::Activation;

// "tanh", "sigmoid", "sin", "silu", "gelu", "relu", "softplus" or "softplus:<beta>:<threshold>".
TaylorLayer activation_layer(const std::string& spec, int64_t index) {
  TaylorLayer layer;
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  bool known = false;
  for (int a = static_cast<int>(Activation::kTanh); a <= static_cast<int>(Activation::kRelu); ++a) {
    if (taylor::activation_name(static_cast<Activation>(a)) == name) {
      layer.activation = static_cast<Activation>(a);
      known = true;
    }
  }
  TORCH_CHECK_VALUE(known, "regula op: layer ", index, " is '", spec,
                    "'; valid: linear, tanh, sigmoid, softplus[:beta:threshold], sin, silu, gelu, relu");
  if (colon == std::string::npos) return layer;
  const auto second = spec.find(':', colon + 1);
  TORCH_CHECK_VALUE(layer.activation == Activation::kSoftplus && second != std::string::npos,
                    "regula op: layer ", index, " is '", spec, "'; only softplus takes parameters, as softplus:beta:threshold");
  try {
    std::size_t used = 0;
    const std::string beta = spec.substr(colon + 1, second - colon - 1), threshold = spec.substr(second + 1);
    layer.params.beta = std::stod(beta, &used);
    TORCH_CHECK_VALUE(used == beta.size(), "trailing characters");
    layer.params.threshold = std::stod(threshold, &used);
    TORCH_CHECK_VALUE(used == threshold.size(), "trailing characters");
  } catch (const std::exception&) {
    TORCH_CHECK_VALUE(false, "regula op: layer ", index, " is '", spec, "'; softplus:beta:threshold needs two numbers");
  }
  TORCH_CHECK_VALUE(layer.params.beta > 0, "regula op: layer ", index, " is '", spec, "'; softplus needs beta > 0");
  return layer;
}

// The plan of `layers` ("linear" or an activation, in order), the i-th "linear" taking weights[i]
// and biases[i]; checked against the points' dtype and device.
TaylorPlan plan_of(const at::Tensor& points, at::TensorList weights, const c10::List<std::optional<at::Tensor>>& biases,
                   const std::vector<std::string>& layers) {
  TORCH_CHECK_VALUE(weights.size() == biases.size(), "regula op: ", weights.size(), " weights but ", biases.size(),
                    " biases (one per linear layer, None for none)");
  std::vector<TaylorLayer> plan_layers;
  std::size_t next = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layers[i] != "linear") {
      plan_layers.push_back(activation_layer(layers[i], static_cast<int64_t>(i)));
      continue;
    }
    TORCH_CHECK_VALUE(next < weights.size(), "regula op: layer ", i, " is linear number ", next + 1, " but only ",
                      weights.size(), " weights were given");
    TaylorLayer layer;
    layer.weight = weights[next];
    if (const auto b = biases.get(next)) layer.bias = *b;
    ++next;
    for (const auto* t : {&layer.weight, &layer.bias}) {
      if (!t->defined()) continue;
      TORCH_CHECK_VALUE(t->scalar_type() == points.scalar_type() && t->device() == points.device(), "regula op: layer ",
                        i, " (linear) has a ", t->scalar_type(), " parameter on ", t->device(), " but the points are ",
                        points.scalar_type(), " on ", points.device());
    }
    plan_layers.push_back(std::move(layer));
  }
  TORCH_CHECK_VALUE(next == weights.size(), "regula op: ", weights.size(), " weights but ", next, " linear layers");
  auto plan = checked_plan(std::move(plan_layers));
  TORCH_CHECK_VALUE(plan.supported(), "regula op: the network is not supported: ", plan.unsupported);
  return plan;
}

// A request's plan and engine (auto resolved), with every argument checked (ValueError).
struct Request {
  TaylorPlan plan;
  Engine engine = Engine::kAuto;
};

Request checked_request(const at::Tensor& points, const at::Tensor& coords, int64_t order, at::TensorList weights,
                        const c10::List<std::optional<at::Tensor>>& biases, const std::vector<std::string>& layers,
                        const std::string& engine_name) {
  TORCH_CHECK_VALUE(points.dim() == 2 && points.is_floating_point(), "regula op: points must be a floating [M, d] tensor, got ",
                    points.scalar_type(), " ", points.sizes());
  TORCH_CHECK_VALUE(order >= 1, "regula op: order must be >= 1, got ", order);
  Request r{plan_of(points, weights, biases, layers)};
  const auto& plan = r.plan;
  const int64_t d = points.size(1);
  TORCH_CHECK_VALUE(plan.input_dim == d, "regula op: the first linear layer takes ", plan.input_dim,
                    " inputs but the points have ", d, " coordinates");
  TORCH_CHECK_VALUE(coords.dim() == 1 && coords.numel() >= 1 && coords.scalar_type() == at::kLong,
                    "regula op: coords must be a non-empty 1-D int64 tensor, got ", coords.scalar_type(), " ", coords.sizes());
  TORCH_CHECK_VALUE(coords.device() == points.device(), "regula op: coords are on ", coords.device(), " but the points on ",
                    points.device());
  if (coords.device().is_cpu()) {  // elsewhere this would be a host sync
    const int64_t lo = coords.min().item<int64_t>(), hi = coords.max().item<int64_t>();
    TORCH_CHECK_VALUE(lo >= 0 && hi < d, "regula op: coords must lie in [0, ", d, "), got values from ", lo, " to ", hi);
  }
  try {
    r.engine = parse_engine(engine_name);
  } catch (const Error& e) {
    TORCH_CHECK_VALUE(false, "regula op: ", e.what());
  }
  TORCH_CHECK_VALUE(r.engine != Engine::kAutograd,
                    "regula op: engine 'autograd' needs a module; the op runs auto, taylor or reverse (nested autograd is "
                    "plain torch.autograd.grad)");
  if (r.engine == Engine::kAuto) r.engine = fastest_engine(plan, order, coords.size(0));
  TORCH_CHECK_VALUE(r.engine != Engine::kReverse || order == 1,
                    "regula op: engine 'reverse' computes first derivatives only, but order = ", order, "; use auto or taylor");
  return r;
}

at::Tensor partials(const at::Tensor& points, const at::Tensor& coords, int64_t order, at::TensorList weights,
                    const c10::List<std::optional<at::Tensor>>& biases, const std::vector<std::string>& layers,
                    const std::string& engine_name) {
  const auto r = checked_request(points, coords, order, weights, biases, layers, engine_name);
  if (r.engine == Engine::kReverse) return pure_partials_reverse(r.plan, points, coords, order);
  return pure_partials_taylor(r.plan, points, coords, order);
}

at::Tensor penalty(const at::Tensor& points, const at::Tensor& coords, int64_t order, at::TensorList weights,
                   const c10::List<std::optional<at::Tensor>>& biases, const std::vector<std::string>& layers, double power,
                   double weight, const std::vector<double>& low, const std::vector<double>& high,
                   const std::string& engine_name) {
  KTVOptions options(order);
  options.power(power).weight(weight).domain(low, high);
  try {
    validate(options);
  } catch (const Error& e) {
    TORCH_CHECK_VALUE(false, "regula op: ", e.what());
  }
  const auto r = checked_request(points, coords, order, weights, biases, layers, engine_name);
  const int64_t d = points.size(1);
  Box box{low, high};
  if (box.dim() == 1) box = box.broadcast(d);
  TORCH_CHECK_VALUE(box.dim() == d, "regula op: the domain has ", box.dim(), " coordinates but the points have ", d);
  // The fused CPU pass where it applies (see ktv.h), else the engine's partials.
  const auto fused = ktv_fused(r.plan, points, coords, order, power, ktv_scale(d, coords.size(0), box.volume(), weight),
                               r.engine);
  if (fused.defined()) return fused;
  const auto D = r.engine == Engine::kReverse ? pure_partials_reverse(r.plan, points, coords, order)
                                              : pure_partials_taylor(r.plan, points, coords, order);
  return ktv_from_partials(D, d, box.volume(), power, weight);
}

}  // namespace
}  // namespace regula::regularizers

TORCH_LIBRARY(regula, m) {
  m.def(
      "pure_partials(Tensor points, Tensor coords, int order, Tensor[] weights, Tensor?[] biases, str[] layers, "
      "str engine=\"auto\") -> Tensor");
  m.def(
      "ktv_penalty(Tensor points, Tensor coords, int order, Tensor[] weights, Tensor?[] biases, str[] layers, "
      "float power, float weight, float[] low, float[] high, str engine=\"auto\") -> Tensor");
  // X [m, n] @ Y [n, p] with the kernel the engines run (core/matmul.h), without autograd: what
  // bench/ktv_gemm_bound.py times for the GEMM floor of Regula's step.
  m.def("matmul(Tensor X, Tensor Y) -> Tensor");
}

TORCH_LIBRARY_IMPL(regula, CompositeExplicitAutograd, m) {
  m.impl("matmul", [](const at::Tensor& X, const at::Tensor& Y) { return regula::core::matmul(X, Y); });
}

TORCH_LIBRARY_IMPL(regula, CompositeImplicitAutograd, m) {
  m.impl("pure_partials", &regula::regularizers::partials);
  m.impl("ktv_penalty", &regula::regularizers::penalty);
}
