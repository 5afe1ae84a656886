#pragma once
/// \file The depth-N diagonal linear network
/// f(x) = \langle w, x \rangle,  w = u^{\odot N} - v^{\odot N}
/// (or w = u^{\odot N} when positive-only), initialised u_0 = v_0 = \alpha 1,
/// so w_0 = 0 and the initial scale of each factor is \alpha = w_0^{1/N}.
/// N = 1 is the plain linear model w = u - v.
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "core/options.h"

namespace regula::models {

/// Options of DiagonalLinear.
struct DiagonalLinearOptions {
  explicit DiagonalLinearOptions(int64_t dim) : dim_(dim) {}
  /// Dimension d of x and w.
  REGULA_ARG(int64_t, dim);
  /// Depth N >= 1 (N = 1: plain linear baseline).
  REGULA_ARG(int64_t, depth) = 2;
  /// Initial scale \alpha of u and v (> 0).
  REGULA_ARG(double, init_scale) = 1e-3;
  /// Positive-only model w = u^N (no v).
  REGULA_ARG(bool, positive) = false;

 public:
  /// Sets the scale from the published convention w_0 = \alpha^N.
  DiagonalLinearOptions& w0(double w0_value);
  /// w_0 = \alpha^N for the current depth and scale.
  double w0() const;
};

/// w = u^N - v^N; forward(X) = X w for X of shape [..., d].
class DiagonalLinearImpl : public torch::nn::Module {
 public:
  explicit DiagonalLinearImpl(DiagonalLinearOptions options);
  /// Re-initialises u = v = \alpha.
  void reset();
  /// The effective linear weight w (differentiable in u, v).
  torch::Tensor weight() const;
  torch::Tensor forward(const torch::Tensor& x) const;

  DiagonalLinearOptions options;
  torch::Tensor u;
  torch::Tensor v;  ///< undefined when positive-only
};
TORCH_MODULE(DiagonalLinear);

}  // namespace regula::models
