#pragma once
/// \file Truncated Taylor series through elementwise activations, for the Taylor-mode engine.
///
/// A series is the list of normalised Taylor coefficients x_0..x_K of a curve
/// x(t) = \sum_k x_k t^k, so x^{(k)}(0) = k! x_k.  An activation y = g(x) is pushed through with
/// the O(K^2) recurrence of its ODE: if y' = h x' then k y_k = \sum_{i=1}^k i x_i h_{k-i}, where h
/// (a series of g'(x(t))) comes from Cauchy products (a b)_k = \sum_{i=0}^k a_i b_{k-i} of series
/// known up to order k-1: tanh h = 1 - y^2; sigmoid h = y - y^2; softplus h = sigmoid(beta x);
/// sin h = cos (and cos' = -sin x'); SiLU y = x sigmoid(x); GELU y = x Phi(x) with Phi' = phi x',
/// phi' = -x phi x'; relu y_k = 1[x_0 > 0] x_k.
///
/// taylor_activation() runs a whole stack [K+1, ...] of coefficients through one activation as
/// one autograd node: a fused per-element kernel on the CPU (the recurrences in registers), the
/// same recurrences as tensor expressions on other devices, and a backward that uses the
/// Jacobian \partial y_k / \partial x_i = h_{k-i} instead of differentiating the recurrences.
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace regula::regularizers::taylor {

/// Coefficients x_0..x_K, each a tensor of the same shape.
using Series = std::vector<torch::Tensor>;

/// The elementwise activations with a Taylor rule.
enum class Activation { kTanh, kSigmoid, kSoftplus, kSin, kSilu, kGelu, kRelu };

/// Parameters of an activation (softplus: y = log(1 + e^{beta x}) / beta, and y = x where
/// beta x > threshold, as in torch).
struct ActivationParams {
  double beta = 1.0;
  double threshold = 20.0;
};

/// k! as a double (D^k f = k! y_k turns Taylor coefficients into derivatives).
inline double factorial(int64_t k) {
  double f = 1.0;
  for (int64_t i = 2; i <= k; ++i) f *= static_cast<double>(i);
  return f;
}

/// Human-readable name ("tanh", ...).
std::string activation_name(Activation act);

/// y = act(x) and h = act'(x) as series, computed with tensor expressions (any device).
std::pair<Series, Series> apply(Activation act, const Series& x, const ActivationParams& params = {});

/// Y = act(X) for a coefficient stack X [1 + K S, ...] of S directions that share coefficient 0:
/// slab 0 holds x_0, slab 1 + (k-1) S + s holds x_k of direction s (S = 1: the plain stack
/// [K+1, ...]).  Y has the same layout.  Differentiable (first order).
torch::Tensor taylor_activation(const torch::Tensor& X, Activation act, const ActivationParams& params = {},
                                int64_t directions = 1);

/// The stacks (Y, H) for X as in taylor_activation, without autograd: `fused` = the per-element
/// CPU kernels (CPU tensors, K < 16), otherwise tensor expressions.  For tests and benchmarks.
std::pair<torch::Tensor, torch::Tensor> series_stacks(const torch::Tensor& X, Activation act,
                                                      const ActivationParams& params, bool fused,
                                                      int64_t directions = 1);

/// Zeroth to second derivative of an activation at x = U + bias (bias [width] added to every row,
/// undefined = none): (g(x), g'(x), g''(x)), each shaped like U, without autograd.  These are the
/// first Taylor coefficients along x(t) = x + t (y_0, h_0, h_1 of the same recurrences); the
/// reverse-mode engine needs them.  The fused per-element kernel on CPU tensors, else tensor
/// expressions.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> activation_derivatives(const torch::Tensor& U,
                                                                               const torch::Tensor& bias,
                                                                               Activation act,
                                                                               const ActivationParams& params = {});

/// Whether CPU tensors use the fused per-element kernels (default true; tests switch them off to
/// exercise the tensor-expression path that other devices take).
void set_fused_cpu_kernels(bool enabled);
bool fused_cpu_kernels();

}  // namespace regula::regularizers::taylor
