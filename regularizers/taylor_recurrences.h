#pragma once
/// \file The Taylor-series recurrences of the supported activations, written once for two value
/// types: a whole tensor per coefficient (any device; SeriesOps<torch::Tensor>) and one scalar per
/// coefficient (the fused CPU kernel; SeriesOps<float|double>).  Internal to the Taylor engine.
///
/// For y = g(x) along the curve x(t) = \sum_k x_k t^k, each rule fills y_0..y_K and also
/// h_0..h_K, the series of g'(x(t)).  h is the whole Jacobian of the map (x_0..x_K) -> (y_0..y_K):
/// \partial y_k / \partial x_i = h_{k-i} (k >= i), because perturbing x_i by e moves x(t) by
/// e t^i and y(t) by e t^i g'(x(t)).  Backward is therefore g_{x_i} = \sum_{k>=i} g_{y_k} h_{k-i}.
#include <cmath>

#include <torch/types.h>

#include "regularizers/taylor_series.h"

namespace regula::regularizers::taylor::detail {

/// Coefficients per element in the fused CPU kernels (orders up to 15).
constexpr int kMaxFused = 16;

/// Unrolls the following loop over coefficients; with the fused kernels' compile-time order the
/// unrolling is complete and the series stay in registers.
#define REGULA_UNROLL _Pragma("GCC unroll 16")

/// A fixed-capacity series of per-element values, for the fused kernels (N = K + 1 when the
/// order is a compile-time constant, so that the series can live in registers).
template <class T, int N = kMaxFused>
struct Small {
  T v[N];
  T& operator[](int i) { return v[i]; }
  const T& operator[](int i) const { return v[i]; }
};

template <class T>
struct SeriesOps;

template <>
struct SeriesOps<torch::Tensor> {
  using T = torch::Tensor;
  static T tanh(const T& x) { return torch::tanh(x); }
  static T sigmoid(const T& x) { return torch::sigmoid(x); }
  static T sin(const T& x) { return torch::sin(x); }
  static T cos(const T& x) { return torch::cos(x); }
  static T exp(const T& x) { return torch::exp(x); }
  static T erf(const T& x) { return torch::erf(x); }
  static T softplus(const T& x, double beta, double threshold) { return torch::softplus(x, beta, threshold); }
  static T relu(const T& x) { return torch::relu(x); }
  /// 1 where x > c, else 0 (as values).
  static T step(const T& x, double c) { return (x > c).to(x.scalar_type()); }
  /// a where the step is 1, b where it is 0.
  static T choose(const T& step, const T& a, const T& b) { return torch::where(step > 0.5, a, b); }
  static T zero(const T& like) { return torch::zeros_like(like); }
};

template <class F>
struct ScalarSeriesOps {
  using T = F;
  static T tanh(T x) { return std::tanh(x); }
  static T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }
  static T sin(T x) { return std::sin(x); }
  static T cos(T x) { return std::cos(x); }
  static T exp(T x) { return std::exp(x); }
  static T erf(T x) { return std::erf(x); }
  static T softplus(T x, double beta, double threshold) {
    return x * beta > threshold ? x : static_cast<T>(std::log1p(std::exp(x * beta)) / beta);
  }
  static T relu(T x) { return x > T(0) ? x : T(0); }
  static T step(T x, double c) { return x > c ? T(1) : T(0); }
  static T choose(T step, T a, T b) { return step > T(0.5) ? a : b; }
  static T zero(T) { return T(0); }
};
template <>
struct SeriesOps<float> : ScalarSeriesOps<float> {};
template <>
struct SeriesOps<double> : ScalarSeriesOps<double> {};

/// Recurrences for value type T over a series container S (std::vector<Tensor>, or a small
/// array of scalars), all of length K + 1.  The order type KT is int, or
/// std::integral_constant<int, K> in the fused kernels (the loops then unroll).
template <class T, class S, class KT = int>
struct Recurrences {
  using O = SeriesOps<T>;
  /// g and its relatives at x_0 (the transcendental part of a rule): the same for every
  /// direction that shares x_0, so the fused kernels compute it once per element.
  struct Primal {
    T a, b, c;
  };

  const S& x;
  const KT order;  // K; the rules copy it into a local `const int K` (unroll pragmas need a plain int)
  S dx;            // dx_i = i x_i

  Recurrences(const S& x_, KT K_) : x(x_), order(K_), dx(x_) {
    const int K = order;
    REGULA_UNROLL for (int i = 2; i <= K; ++i) dx[i] = x[i] * static_cast<double>(i);
  }

  // (1/k) \sum_{i=1}^k dx_i h_{k-i}: y_k when y' = h x'.
  T ode(const S& h, int k) const {
    T acc = dx[1] * h[k - 1];
    REGULA_UNROLL for (int i = 2; i <= k; ++i) acc = acc + dx[i] * h[k - i];
    return k == 1 ? acc : T(acc * (1.0 / k));
  }
  static T cauchy(const S& a, const S& b, int m) {
    T acc = a[0] * b[m];
    REGULA_UNROLL for (int i = 1; i <= m; ++i) acc = acc + a[i] * b[m - i];
    return acc;
  }
  static T square(const S& a, int m) {
    T acc = (m % 2 == 0) ? T(a[m / 2] * a[m / 2]) : T((a[0] * a[m]) * 2.0);
    REGULA_UNROLL for (int i = (m % 2 == 0) ? 0 : 1; 2 * i < m; ++i) acc = acc + (a[i] * a[m - i]) * 2.0;
    return acc;
  }

  // y' = h x' with h = c0 + c1 y + c2 y^2 (tanh: 1 - y^2, sigmoid: y - y^2); h up to K.
  void quadratic(T y0, double c0, double c1, double c2, S& y, S& h) const {
    const int K = order;
    y[0] = y0;
    REGULA_UNROLL for (int m = 0; m <= K; ++m) {
      T hm = square(y, m) * c2;
      if (c1 != 0.0) hm = hm + y[m] * c1;
      if (m == 0 && c0 != 0.0) hm = hm + c0;
      h[m] = hm;
      if (m < K) y[m + 1] = ode(h, m + 1);
    }
  }

  /// The Primal of `act` at x0.  `Act` is Activation, or std::integral_constant<Activation, A>.
  template <class Act>
  static Primal primal(Act act, const ActivationParams& p, const T& x0) {
    switch (static_cast<Activation>(act)) {
      case Activation::kTanh: return {O::tanh(x0), T(), T()};
      case Activation::kSigmoid:
      case Activation::kSilu: return {O::sigmoid(x0), T(), T()};
      case Activation::kSoftplus: {
        const T bx = x0 * p.beta;
        return {O::sigmoid(bx), O::step(bx, p.threshold), O::softplus(x0, p.beta, p.threshold)};
      }
      case Activation::kSin: return {O::sin(x0), O::cos(x0), T()};
      case Activation::kGelu:
        return {T(O::exp(x0 * x0 * -0.5) * 0.3989422804014327),  // phi = e^{-x^2/2} / sqrt(2 pi)
                T((O::erf(x0 * 0.7071067811865476) + 1.0) * 0.5), T()};  // Phi
      case Activation::kRelu: return {O::step(x0, 0.0), O::relu(x0), T()};
    }
    return {};
  }

  /// Fills y and h for `act`, given its Primal g at x[0].
  template <class Act>
  void run(Act act, const ActivationParams& p, const Primal& g, S& y, S& h) const {
    switch (static_cast<Activation>(act)) {
      case Activation::kTanh: return quadratic(g.a, 1.0, 0.0, -1.0, y, h);
      case Activation::kSigmoid: return quadratic(g.a, 0.0, 1.0, -1.0, y, h);
      case Activation::kSoftplus: return softplus(p, g, y, h);
      case Activation::kSin: return sin(g, y, h);
      case Activation::kSilu: return silu(g, y, h);
      case Activation::kGelu: return gelu(g, y, h);
      case Activation::kRelu: return relu(g, y, h);
    }
  }
  void run(Activation act, const ActivationParams& p, S& y, S& h) const { run(act, p, primal(act, p, x[0]), y, h); }

  // y' = s x' with s = sigmoid(beta x), s' = beta s (1 - s) x'; y = x where beta x_0 > threshold.
  // g = (sigmoid(beta x_0), 1[beta x_0 > threshold], softplus(x_0)).
  void softplus(const ActivationParams& p, const Primal& g, S& y, S& h) const {
    const int K = order;
    S bx = x;
    REGULA_UNROLL for (int k = 0; k <= K; ++k) bx[k] = x[k] * p.beta;
    S s = x, hs = x;
    Recurrences<T, S, KT>(bx, order).quadratic(g.a, 0.0, 1.0, -1.0, s, hs);
    const T& linear = g.b;
    y[0] = g.c;
    h[0] = O::choose(linear, O::zero(x[0]) + 1.0, s[0]);
    REGULA_UNROLL for (int k = 1; k <= K; ++k) {
      y[k] = O::choose(linear, x[k], ode(s, k));
      h[k] = O::choose(linear, O::zero(x[0]), s[k]);
    }
  }
  // s' = c x', c' = -s x'; h = c.  g = (sin x_0, cos x_0).
  void sin(const Primal& g, S& y, S& h) const {
    const int K = order;
    y[0] = g.a;
    h[0] = g.b;
    REGULA_UNROLL for (int k = 1; k <= K; ++k) {
      y[k] = ode(h, k);
      h[k] = -ode(y, k);
    }
  }
  // y = x sigmoid(x); h = sigmoid + x sigmoid (1 - sigmoid).  g = (sigmoid(x_0)).
  void silu(const Primal& g, S& y, S& h) const {
    const int K = order;
    S s = x, hs = x;
    quadratic(g.a, 0.0, 1.0, -1.0, s, hs);
    REGULA_UNROLL for (int k = 0; k <= K; ++k) {
      y[k] = cauchy(x, s, k);
      h[k] = s[k] + cauchy(x, hs, k);
    }
  }
  // y = x Phi(x), Phi' = phi x', phi' = -x phi x'; h = Phi + x phi.  g = (phi(x_0), Phi(x_0)).
  void gelu(const Primal& g, S& y, S& h) const {
    const int K = order;
    S phi = x, Phi = x, xphi = x;
    phi[0] = g.a;
    Phi[0] = g.b;
    REGULA_UNROLL for (int k = 0; k <= K; ++k) {
      xphi[k] = cauchy(x, phi, k);
      if (k < K) {
        Phi[k + 1] = ode(phi, k + 1);
        phi[k + 1] = -ode(xphi, k + 1);
      }
      y[k] = cauchy(x, Phi, k);
      h[k] = Phi[k] + xphi[k];
    }
  }
  // y_k = 1[x_0 > 0] x_k; h = (1[x_0 > 0], 0, ...).  g = (1[x_0 > 0], relu(x_0)).
  void relu(const Primal& g, S& y, S& h) const {
    const int K = order;
    const T& on = g.a;
    y[0] = g.b;
    h[0] = on;
    REGULA_UNROLL for (int k = 1; k <= K; ++k) {
      y[k] = x[k] * on;
      h[k] = O::zero(x[0]);
    }
  }
};

}  // namespace regula::regularizers::taylor::detail
