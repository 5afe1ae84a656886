#include "models/diagonal_linear.h"

#include <cmath>

#include <fmt/format.h>

#include "core/errors.h"

namespace regula::models {

double InitScale::alpha(int64_t depth) const {
  return is_alpha_ ? value_ : std::pow(value_, 1.0 / static_cast<double>(depth));
}

double InitScale::w0(int64_t depth) const {
  return is_alpha_ ? std::pow(value_, static_cast<double>(depth)) : value_;
}

DiagonalLinearImpl::DiagonalLinearImpl(DiagonalLinearOptions opts) : options(std::move(opts)) {
  if (options.dim() < 1) throw ConfigError(fmt::format("DiagonalLinear dim = {} is not valid: must be >= 1", options.dim()));
  if (options.depth() < 1) throw ConfigError(fmt::format("depth N = {} is not valid: must be >= 1", options.depth()));
  if (!(options.scale().value() > 0) || !std::isfinite(options.scale().value())) {
    throw ConfigError(fmt::format("init scale {} = {} is not valid: must be > 0 and finite",
                                  options.scale().is_alpha() ? "alpha" : "w0", options.scale().value()));
  }
  const auto tensor_options = torch::TensorOptions().dtype(options.dtype());
  parametrization = diagonal_parametrization(options.parametrization());
  u = register_parameter("u", torch::empty({options.dim()}, tensor_options));
  if (parametrization->has_v()) v = register_parameter("v", torch::empty({options.dim()}, tensor_options));
  reset();
}

void DiagonalLinearImpl::reset() {
  torch::NoGradGuard no_grad;
  u.fill_(options.init_scale());
  if (v.defined()) v.fill_(options.init_scale());
}

torch::Tensor DiagonalLinearImpl::weight() const {
  const auto n1 = static_cast<double>(options.depth() - 1);
  return parametrization->weight(u, v, [n1](const torch::Tensor& x) { return n1 == 0 ? torch::ones_like(x) : x.pow(n1); });
}

torch::Tensor DiagonalLinearImpl::forward(const torch::Tensor& x) const { return torch::matmul(x, weight()); }

}  // namespace regula::models
