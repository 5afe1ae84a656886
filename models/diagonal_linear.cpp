#include "models/diagonal_linear.h"

#include <cmath>

#include <fmt/format.h>

#include "core/errors.h"

namespace regula::models {

DiagonalLinearOptions& DiagonalLinearOptions::w0(double w0_value) {
  if (!(w0_value > 0)) throw ConfigError(fmt::format("w0 = {} is not valid: must be > 0 (w0 = alpha^N)", w0_value));
  init_scale_ = std::pow(w0_value, 1.0 / static_cast<double>(depth_));
  return *this;
}

double DiagonalLinearOptions::w0() const { return std::pow(init_scale_, static_cast<double>(depth_)); }

DiagonalLinearImpl::DiagonalLinearImpl(DiagonalLinearOptions opts) : options(std::move(opts)) {
  if (options.dim() < 1) throw ConfigError(fmt::format("DiagonalLinear dim = {} is not valid: must be >= 1", options.dim()));
  if (options.depth() < 1) throw ConfigError(fmt::format("depth N = {} is not valid: must be >= 1", options.depth()));
  if (!(options.init_scale() > 0) || !std::isfinite(options.init_scale())) {
    throw ConfigError(fmt::format("init scale alpha = {} is not valid: must be > 0", options.init_scale()));
  }
  u = register_parameter("u", torch::empty({options.dim()}));
  if (!options.positive()) v = register_parameter("v", torch::empty({options.dim()}));
  reset();
}

void DiagonalLinearImpl::reset() {
  torch::NoGradGuard no_grad;
  u.fill_(options.init_scale());
  if (v.defined()) v.fill_(options.init_scale());
}

torch::Tensor DiagonalLinearImpl::weight() const {
  const auto n = static_cast<double>(options.depth());
  auto w = u.pow(n);
  return v.defined() ? w - v.pow(n) : w;
}

torch::Tensor DiagonalLinearImpl::forward(const torch::Tensor& x) const { return torch::matmul(x, weight()); }

}  // namespace regula::models
