// The fused Taylor-activation kernels with AVX2/FMA vectors (8 floats or 4 doubles per lane):
// the same recurrences as taylor_recurrences.h, instantiated for a vector value type.  This file
// is compiled with -mavx2 -mfma; taylor_series.cpp calls it only when the CPU has both.
#include <algorithm>

#include <ATen/Parallel.h>
#include <ATen/cpu/vec/vec.h>

#include "regularizers/taylor_kernels.h"
#include "regularizers/taylor_recurrences.h"

namespace regula::regularizers::taylor::detail {

/// One vector of elements, with the arithmetic the recurrences use.
template <class F>
struct Lane {
  using V = at::vec::Vectorized<F>;
  V v;
  Lane() = default;
  Lane(V x) : v(x) {}
  friend Lane operator+(const Lane& a, const Lane& b) { return a.v + b.v; }
  friend Lane operator-(const Lane& a, const Lane& b) { return a.v - b.v; }
  friend Lane operator*(const Lane& a, const Lane& b) { return a.v * b.v; }
  friend Lane operator-(const Lane& a) { return a.v.neg(); }
  friend Lane operator*(const Lane& a, double c) { return a.v * V(static_cast<F>(c)); }
  friend Lane operator+(const Lane& a, double c) { return a.v + V(static_cast<F>(c)); }
};

template <class F>
struct SeriesOps<Lane<F>> {
  using T = Lane<F>;
  using V = at::vec::Vectorized<F>;
  static T tanh(const T& x) { return x.v.tanh(); }
  static T sigmoid(const T& x) { return V(F(1)) / (V(F(1)) + x.v.neg().exp()); }
  static T sin(const T& x) { return x.v.sin(); }
  static T cos(const T& x) { return x.v.cos(); }
  static T exp(const T& x) { return x.v.exp(); }
  static T erf(const T& x) { return x.v.erf(); }
  static T softplus(const T& x, double beta, double threshold) {
    const V bx = x.v * V(static_cast<F>(beta));
    const V smooth = bx.exp().log1p() / V(static_cast<F>(beta));
    return V::blendv(smooth, x.v, bx > V(static_cast<F>(threshold)));
  }
  static T relu(const T& x) { return at::vec::maximum(x.v, V(F(0))); }
  static T step(const T& x, double c) { return x.v.gt(V(static_cast<F>(c))); }
  static T choose(const T& step, const T& a, const T& b) { return V::blendv(b.v, a.v, step.v > V(F(0.5))); }
  static T zero(const T&) { return V(F(0)); }
};

namespace {

template <class F>
void forward_impl(const F* xp, F* yp, F* hp, int K, int64_t E, Activation act, const ActivationParams& p) {
  using L = Lane<F>;
  constexpr int64_t W = L::V::size();
  at::parallel_for(0, E, 2048, [&](int64_t begin, int64_t end) {
    Small<L> x, y, h;
    for (int64_t e = begin; e < end; e += W) {
      const int n = static_cast<int>(std::min(W, end - e));
      for (int k = 0; k <= K; ++k) x[k] = L::V::loadu(xp + k * E + e, n);
      Recurrences<L, Small<L>>(x, K).run(act, p, y, h);
      for (int k = 0; k <= K; ++k) {
        y[k].v.store(yp + k * E + e, n);
        h[k].v.store(hp + k * E + e, n);
      }
    }
  });
}

template <class F>
void backward_impl(const F* gyp, const F* hp, F* gxp, int K, int64_t E) {
  using V = at::vec::Vectorized<F>;
  constexpr int64_t W = V::size();
  at::parallel_for(0, E, 2048, [&](int64_t begin, int64_t end) {
    V gy[kMaxFused], h[kMaxFused];
    for (int64_t e = begin; e < end; e += W) {
      const int n = static_cast<int>(std::min(W, end - e));
      for (int k = 0; k <= K; ++k) gy[k] = V::loadu(gyp + k * E + e, n), h[k] = V::loadu(hp + k * E + e, n);
      for (int i = 0; i <= K; ++i) {
        V acc = gy[i] * h[0];
        for (int k = i + 1; k <= K; ++k) acc = at::vec::fmadd(gy[k], h[k - i], acc);
        acc.store(gxp + i * E + e, n);
      }
    }
  });
}

}  // namespace

void fused_forward_avx2(const torch::Tensor& X, Activation act, const ActivationParams& p, torch::Tensor& Y,
                        torch::Tensor& H) {
  const int K = static_cast<int>(X.size(0)) - 1;
  const int64_t E = X.numel() / (K + 1);
  if (X.scalar_type() == torch::kFloat32) {
    forward_impl<float>(X.data_ptr<float>(), Y.data_ptr<float>(), H.data_ptr<float>(), K, E, act, p);
  } else {
    forward_impl<double>(X.data_ptr<double>(), Y.data_ptr<double>(), H.data_ptr<double>(), K, E, act, p);
  }
}

void fused_backward_avx2(const torch::Tensor& gY, const torch::Tensor& H, torch::Tensor& gX) {
  const int K = static_cast<int>(H.size(0)) - 1;
  const int64_t E = H.numel() / (K + 1);
  if (H.scalar_type() == torch::kFloat32) {
    backward_impl<float>(gY.data_ptr<float>(), H.data_ptr<float>(), gX.data_ptr<float>(), K, E);
  } else {
    backward_impl<double>(gY.data_ptr<double>(), H.data_ptr<double>(), gX.data_ptr<double>(), K, E);
  }
}

}  // namespace regula::regularizers::taylor::detail
