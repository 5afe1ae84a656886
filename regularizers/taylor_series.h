#pragma once
/// \file Truncated Taylor-series arithmetic for the Taylor-mode engine.
///
/// A series is the list of normalised Taylor coefficients x_0..x_K of a curve x(t) = \sum_k x_k t^k
/// (each coefficient a tensor of one shape), so x^{(k)}(0) = k! x_k.  An elementwise function
/// y = g(x) is pushed through with the O(K^2) recurrence of its ODE: if y' = h x' then
/// k y_k = \sum_{i=1}^k i x_i h_{k-i}, and h's coefficients come from products (Cauchy:
/// (a b)_k = \sum_{i=0}^k a_i b_{k-i}) of series already known up to order k-1.  Every step is an
/// elementwise tensor expression, ready to be fused into one kernel per activation.
#include <string>
#include <vector>

#include <torch/types.h>

namespace regula::regularizers::taylor {

/// Coefficients x_0..x_K, each a tensor of the same shape.
using Series = std::vector<torch::Tensor>;

/// The elementwise activations with a Taylor rule.
enum class Activation { kTanh, kSigmoid, kSoftplus, kSin, kSilu, kGelu, kRelu };

/// Parameters of an activation (softplus: y = log(1 + e^{beta x}) / beta, linear where
/// beta x > threshold, as in torch).
struct ActivationParams {
  double beta = 1.0;
  double threshold = 20.0;
};

/// (a b)_k = \sum_{i=0}^k a_i b_{k-i}.
torch::Tensor cauchy(const Series& a, const Series& b, int64_t k);

/// y = act(x) on the series x (same length).
Series apply(Activation act, const Series& x, const ActivationParams& params = {});

/// Human-readable name ("tanh", ...).
std::string activation_name(Activation act);

}  // namespace regula::regularizers::taylor
