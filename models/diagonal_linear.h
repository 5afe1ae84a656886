#pragma once
/// \file The depth-N diagonal linear network
/// f(x) = \langle w, x \rangle,  w = u^{\odot N} - v^{\odot N}
/// (or another registered parametrization, e.g. the positive w = u^{\odot N};
/// models/diagonal_parametrization.h), initialised u_0 = v_0 = \alpha 1,
/// so w_0 = 0 and the initial scale of each factor is \alpha = w_0^{1/N}.
/// N = 1 is the plain linear model w = u - v.
#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "core/options.h"
#include "models/diagonal_parametrization.h"

namespace regula::models {

/// The initial scale of a depth-N diagonal network in either convention: the
/// factors' scale \alpha (u_0 = v_0 = \alpha 1) or the published w_0 = \alpha^N.
/// The one place where the two are converted.
class InitScale {
 public:
  static InitScale from_alpha(double alpha) { return InitScale(alpha, true); }
  static InitScale from_w0(double w0) { return InitScale(w0, false); }
  /// \alpha for depth N.
  double alpha(int64_t depth) const;
  /// w_0 = \alpha^N for depth N.
  double w0(int64_t depth) const;
  /// The value as given, and whether it was given as \alpha.
  double value() const { return value_; }
  bool is_alpha() const { return is_alpha_; }

 private:
  InitScale(double value, bool is_alpha) : value_(value), is_alpha_(is_alpha) {}
  double value_;
  bool is_alpha_;
};

/// Options of DiagonalLinear.  The setters do not depend on their order:
/// `.w0(1e-6).depth(3)` equals `.depth(3).w0(1e-6)`.
struct DiagonalLinearOptions {
  explicit DiagonalLinearOptions(int64_t dim) : dim_(dim) {}
  /// Dimension d of x and w.
  REGULA_ARG(int64_t, dim);
  /// Depth N >= 1 (N = 1: plain linear baseline).
  REGULA_ARG(int64_t, depth) = 2;
  /// The form of w(u, v): "signed" (u^N - v^N), "positive" (u^N) or a registered one.
  REGULA_ARG(std::string, parametrization) = "signed";
  /// dtype of u and v, which are filled with \alpha in it (a float64 model starts
  /// from \alpha itself, not from \alpha rounded to float32).
  REGULA_ARG(torch::Dtype, dtype) = torch::kFloat;
  /// The initial scale (default \alpha = 1e-3).
  REGULA_ARG(InitScale, scale) = InitScale::from_alpha(1e-3);

 public:
  /// Sets \alpha, the initial scale of u and v (> 0).
  DiagonalLinearOptions& init_scale(double alpha) { return scale(InitScale::from_alpha(alpha)); }
  /// Sets the scale in the published convention w_0 = \alpha^N.
  DiagonalLinearOptions& w0(double w0_value) { return scale(InitScale::from_w0(w0_value)); }
  /// \alpha for the current depth.
  double init_scale() const { return scale_.alpha(depth_); }
  /// w_0 = \alpha^N for the current depth.
  double w0() const { return scale_.w0(depth_); }
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
  std::shared_ptr<const DiagonalParametrization> parametrization;
  torch::Tensor u;
  torch::Tensor v;  ///< undefined when the parametrization has no second factor
};
TORCH_MODULE(DiagonalLinear);

}  // namespace regula::models
