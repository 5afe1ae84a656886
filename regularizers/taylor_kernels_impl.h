#pragma once
// The fused Taylor-activation kernels with at::vec vectors: the same recurrences as
// taylor_recurrences.h, instantiated for a vector value type.  Included once per instruction set
// by taylor_kernels_avx2.cpp (8 floats or 4 doubles per lane) and taylor_kernels_avx512.cpp (16
// or 8), each compiled for its own ISA with CPU_CAPABILITY naming at::vec's inline namespace;
// REGULA_TAYLOR_ISA is the suffix of the entry points (fused_forward_avx2, ...).
#include <ATen/cpu/vec/vec.h>

#include "regularizers/taylor_kernels.h"
#include "regularizers/taylor_fused.h"

#define REGULA_TAYLOR_CAT2(a, b) a##_##b
#define REGULA_TAYLOR_CAT(a, b) REGULA_TAYLOR_CAT2(a, b)
#define REGULA_TAYLOR_KERNEL(name) REGULA_TAYLOR_CAT(name, REGULA_TAYLOR_ISA)

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

template <class F>
struct LaneTraits<Lane<F>> {
  static constexpr int64_t width = at::vec::Vectorized<F>::size();
  static Lane<F> load(const F* p, int64_t n) { return at::vec::Vectorized<F>::loadu(p, n); }
  static void store(const Lane<F>& v, F* p, int64_t n) { v.v.store(p, n); }
};

void REGULA_TAYLOR_KERNEL(fused_forward)(const torch::Tensor& X, int K, int64_t S, Activation act, const ActivationParams& p,
                        torch::Tensor& Y, torch::Tensor& H) {
  const int64_t E = X.numel() / X.size(0);
  if (X.scalar_type() == torch::kFloat32) {
    fused_forward_kernel<Lane<float>>(X.data_ptr<float>(), Y.data_ptr<float>(), H.data_ptr<float>(), K, S, E, act, p);
  } else {
    fused_forward_kernel<Lane<double>>(X.data_ptr<double>(), Y.data_ptr<double>(), H.data_ptr<double>(), K, S, E, act, p);
  }
}

void REGULA_TAYLOR_KERNEL(fused_backward)(const torch::Tensor& gY, const torch::Tensor& H, int K, int64_t S, torch::Tensor& gX) {
  const int64_t E = H.numel() / H.size(0);
  if (H.scalar_type() == torch::kFloat32) {
    fused_backward_kernel<Lane<float>>(gY.data_ptr<float>(), H.data_ptr<float>(), gX.data_ptr<float>(), K, S, E);
  } else {
    fused_backward_kernel<Lane<double>>(gY.data_ptr<double>(), H.data_ptr<double>(), gX.data_ptr<double>(), K, S, E);
  }
}

void REGULA_TAYLOR_KERNEL(fused_derivatives)(const torch::Tensor& U, const torch::Tensor& bias, Activation act,
                            const ActivationParams& p, torch::Tensor& A, torch::Tensor& S1, torch::Tensor& S2) {
  const int64_t width = U.size(-1), rows = U.numel() / width;
  if (U.scalar_type() == torch::kFloat32) {
    fused_derivatives_kernel<Lane<float>>(U.data_ptr<float>(), bias.defined() ? bias.data_ptr<float>() : nullptr,
                                          A.data_ptr<float>(), S1.data_ptr<float>(), S2.data_ptr<float>(), rows,
                                          width, act, p);
  } else {
    fused_derivatives_kernel<Lane<double>>(U.data_ptr<double>(), bias.defined() ? bias.data_ptr<double>() : nullptr,
                                           A.data_ptr<double>(), S1.data_ptr<double>(), S2.data_ptr<double>(), rows,
                                           width, act, p);
  }
}

}  // namespace regula::regularizers::taylor::detail
