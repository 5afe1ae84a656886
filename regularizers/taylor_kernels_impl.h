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

// The vector type lives in a namespace of its own ISA: the two builds' Lane<float> differ (32 or
// 64 bytes), and so must every kernel instantiated on them, or the linker would keep one build's
// copy of each template for both.
namespace REGULA_TAYLOR_ISA {
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
}  // namespace REGULA_TAYLOR_ISA
using REGULA_TAYLOR_ISA::Lane;

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

#define REGULA_TAYLOR_DEFINE_ENTRY_POINTS(F)                                                                     \
  void REGULA_TAYLOR_KERNEL(fused_forward)(const F* X, F* Y, F* H, int K, int64_t S, int64_t E, Activation act,    \
                                           const ActivationParams& p) {                                           \
    fused_forward_kernel<Lane<F>>(X, Y, H, K, S, E, act, p);                                                      \
  }                                                                                                              \
  void REGULA_TAYLOR_KERNEL(fused_backward)(const F* gY, const F* H, F* gX, int K, int64_t S, int64_t E) {         \
    fused_backward_kernel<Lane<F>>(gY, H, gX, K, S, E);                                                           \
  }                                                                                                              \
  void REGULA_TAYLOR_KERNEL(fused_derivatives)(const F* U, const F* bias, F* A, F* S1, F* S2, int64_t rows,        \
                                               int64_t width, Activation act, const ActivationParams& p) {        \
    fused_derivatives_kernel<Lane<F>>(U, bias, A, S1, S2, rows, width, act, p);                                   \
  }
REGULA_TAYLOR_DEFINE_ENTRY_POINTS(float)
REGULA_TAYLOR_DEFINE_ENTRY_POINTS(double)
#undef REGULA_TAYLOR_DEFINE_ENTRY_POINTS

}  // namespace regula::regularizers::taylor::detail
