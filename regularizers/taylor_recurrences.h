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

/// A fixed-capacity series of per-element values, for the fused kernels.
template <class T>
struct Small {
  T v[kMaxFused];
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
/// array of scalars), all of length K + 1.
template <class T, class S>
struct Recurrences {
  using O = SeriesOps<T>;
  const S& x;
  const int K;
  S dx;  // dx_i = i x_i

  Recurrences(const S& x_, int K_) : x(x_), K(K_), dx(x_) {
    for (int i = 2; i <= K; ++i) dx[i] = x[i] * static_cast<double>(i);
  }

  // (1/k) \sum_{i=1}^k dx_i h_{k-i}: y_k when y' = h x'.
  T ode(const S& h, int k) const {
    T acc = dx[1] * h[k - 1];
    for (int i = 2; i <= k; ++i) acc = acc + dx[i] * h[k - i];
    return k == 1 ? acc : T(acc * (1.0 / k));
  }
  static T cauchy(const S& a, const S& b, int m) {
    T acc = a[0] * b[m];
    for (int i = 1; i <= m; ++i) acc = acc + a[i] * b[m - i];
    return acc;
  }
  static T square(const S& a, int m) {
    T acc = (m % 2 == 0) ? T(a[m / 2] * a[m / 2]) : T((a[0] * a[m]) * 2.0);
    for (int i = (m % 2 == 0) ? 0 : 1; 2 * i < m; ++i) acc = acc + (a[i] * a[m - i]) * 2.0;
    return acc;
  }

  // y' = h x' with h = c0 + c1 y + c2 y^2 (tanh: 1 - y^2, sigmoid: y - y^2); h up to K.
  void quadratic(T y0, double c0, double c1, double c2, S& y, S& h) const {
    y[0] = y0;
    for (int m = 0; m <= K; ++m) {
      T hm = square(y, m) * c2;
      if (c1 != 0.0) hm = hm + y[m] * c1;
      if (m == 0 && c0 != 0.0) hm = hm + c0;
      h[m] = hm;
      if (m < K) y[m + 1] = ode(h, m + 1);
    }
  }

  void run(Activation act, const ActivationParams& p, S& y, S& h) const {
    switch (act) {
      case Activation::kTanh: return quadratic(O::tanh(x[0]), 1.0, 0.0, -1.0, y, h);
      case Activation::kSigmoid: return quadratic(O::sigmoid(x[0]), 0.0, 1.0, -1.0, y, h);
      case Activation::kSoftplus: return softplus(p, y, h);
      case Activation::kSin: return sin(y, h);
      case Activation::kSilu: return silu(y, h);
      case Activation::kGelu: return gelu(y, h);
      case Activation::kRelu: return relu(y, h);
    }
  }

  // y' = s x' with s = sigmoid(beta x), s' = beta s (1 - s) x'; y = x where beta x_0 > threshold.
  void softplus(const ActivationParams& p, S& y, S& h) const {
    S bx = x;
    for (int k = 0; k <= K; ++k) bx[k] = x[k] * p.beta;
    S s = x, hs = x;
    Recurrences<T, S>(bx, K).quadratic(O::sigmoid(bx[0]), 0.0, 1.0, -1.0, s, hs);
    const T linear = O::step(bx[0], p.threshold);
    y[0] = O::softplus(x[0], p.beta, p.threshold);
    h[0] = O::choose(linear, O::zero(x[0]) + 1.0, s[0]);
    for (int k = 1; k <= K; ++k) {
      y[k] = O::choose(linear, x[k], ode(s, k));
      h[k] = O::choose(linear, O::zero(x[0]), s[k]);
    }
  }
  // s' = c x', c' = -s x'; h = c.
  void sin(S& y, S& h) const {
    y[0] = O::sin(x[0]);
    h[0] = O::cos(x[0]);
    for (int k = 1; k <= K; ++k) {
      y[k] = ode(h, k);
      h[k] = -ode(y, k);
    }
  }
  // y = x sigmoid(x); h = sigmoid + x sigmoid (1 - sigmoid).
  void silu(S& y, S& h) const {
    S s = x, hs = x;
    quadratic(O::sigmoid(x[0]), 0.0, 1.0, -1.0, s, hs);
    for (int k = 0; k <= K; ++k) {
      y[k] = cauchy(x, s, k);
      h[k] = s[k] + cauchy(x, hs, k);
    }
  }
  // y = x Phi(x), Phi' = phi x', phi' = -x phi x'; h = Phi + x phi.
  void gelu(S& y, S& h) const {
    S phi = x, Phi = x, xphi = x;
    phi[0] = O::exp(x[0] * x[0] * -0.5) * 0.3989422804014327;  // 1/sqrt(2 pi)
    Phi[0] = (O::erf(x[0] * 0.7071067811865476) + 1.0) * 0.5;
    for (int k = 0; k <= K; ++k) {
      xphi[k] = cauchy(x, phi, k);
      if (k < K) {
        Phi[k + 1] = ode(phi, k + 1);
        phi[k + 1] = -ode(xphi, k + 1);
      }
      y[k] = cauchy(x, Phi, k);
      h[k] = Phi[k] + xphi[k];
    }
  }
  // y_k = 1[x_0 > 0] x_k; h = (1[x_0 > 0], 0, ...).
  void relu(S& y, S& h) const {
    const T on = O::step(x[0], 0.0);
    y[0] = O::relu(x[0]);
    h[0] = on;
    for (int k = 1; k <= K; ++k) {
      y[k] = x[k] * on;
      h[k] = O::zero(x[0]);
    }
  }
};

}  // namespace regula::regularizers::taylor::detail
