#pragma once
/// \file The fused per-element Taylor-activation kernels (internal), written once over a "lane"
/// value type: a scalar (taylor_series.cpp) or an AVX2 vector (taylor_kernels_avx2.cpp).
///
/// Layout of a coefficient stack with S directions sharing coefficient 0: slab 0 holds x_0
/// (the same for every direction), slab 1 + (k-1) S + s holds x_k of direction s; each slab has
/// E elements.  Forward fills Y and H (h = series of g'(x(t))) in the same layout; backward is
/// g_{x_i}^s = \sum_{k>=i} g_{y_k}^s h_{k-i}^s for i >= 1 and
/// g_{x_0} = g_{y_0} h_0 + \sum_s \sum_{k>=1} g_{y_k}^s h_k^s.
#include <algorithm>
#include <cstdint>

#include <ATen/Parallel.h>

#include "regularizers/taylor_recurrences.h"

namespace regula::regularizers::taylor::detail {

/// Loads and stores of a lane type; the scalar case is one element wide.
template <class T>
struct LaneTraits {
  static constexpr int64_t width = 1;
  static T load(const T* p, int64_t) { return *p; }
  static void store(const T& v, T* p, int64_t) { *p = v; }
};

template <class T, class F>
void fused_forward_kernel(const F* xp, F* yp, F* hp, int K, int64_t S, int64_t E, Activation act,
                          const ActivationParams& p) {
  using IO = LaneTraits<T>;
  const auto slab = [S](int k, int64_t s) { return k == 0 ? 0 : 1 + (k - 1) * S + s; };
  at::parallel_for(0, E, 2048, [&](int64_t begin, int64_t end) {
    Small<T> x, y, h;
    for (int64_t e = begin; e < end; e += IO::width) {
      const int64_t n = std::min<int64_t>(IO::width, end - e);
      x[0] = IO::load(xp + e, n);
      for (int64_t s = 0; s < S; ++s) {
        for (int k = 1; k <= K; ++k) x[k] = IO::load(xp + slab(k, s) * E + e, n);
        Recurrences<T, Small<T>>(x, K).run(act, p, y, h);
        for (int k = (s == 0 ? 0 : 1); k <= K; ++k) {
          IO::store(y[k], yp + slab(k, s) * E + e, n);
          IO::store(h[k], hp + slab(k, s) * E + e, n);
        }
      }
    }
  });
}

template <class T, class F>
void fused_backward_kernel(const F* gyp, const F* hp, F* gxp, int K, int64_t S, int64_t E) {
  using IO = LaneTraits<T>;
  const auto slab = [S](int k, int64_t s) { return k == 0 ? 0 : 1 + (k - 1) * S + s; };
  at::parallel_for(0, E, 2048, [&](int64_t begin, int64_t end) {
    T gy[kMaxFused], h[kMaxFused];
    for (int64_t e = begin; e < end; e += IO::width) {
      const int64_t n = std::min<int64_t>(IO::width, end - e);
      h[0] = IO::load(hp + e, n);
      T acc0 = IO::load(gyp + e, n) * h[0];
      for (int64_t s = 0; s < S; ++s) {
        for (int k = 1; k <= K; ++k) {
          gy[k] = IO::load(gyp + slab(k, s) * E + e, n);
          h[k] = IO::load(hp + slab(k, s) * E + e, n);
          acc0 = acc0 + gy[k] * h[k];
        }
        for (int i = 1; i <= K; ++i) {
          T acc = gy[i] * h[0];
          for (int k = i + 1; k <= K; ++k) acc = acc + gy[k] * h[k - i];
          IO::store(acc, gxp + slab(i, s) * E + e, n);
        }
      }
      IO::store(acc0, gxp + e, n);
    }
  });
}

}  // namespace regula::regularizers::taylor::detail
