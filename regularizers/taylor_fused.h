#pragma once
/// \file The fused per-element Taylor-activation kernels (internal), written once over a "lane"
/// value type: a scalar (taylor_series.cpp) or an AVX2 vector (taylor_kernels_avx2.cpp).
///
/// Layout of a coefficient stack with S directions sharing coefficient 0: slab 0 holds x_0
/// (the same for every direction), slab 1 + (k-1) S + s holds x_k of direction s; each slab has
/// E elements.  Forward fills Y and H (h = series of g'(x(t))) in the same layout; backward is
/// g_{x_i}^s = \sum_{k>=i} g_{y_k}^s h_{k-i}^s for i >= 1 and
/// g_{x_0} = g_{y_0} h_0 + \sum_s \sum_{k>=1} g_{y_k}^s h_k^s.
///
/// Each kernel is compiled once per order K (0 <= K < kMaxFused) and, forward, per activation:
/// the recurrences then unroll and a lane's series stay in registers.  The transcendental part
/// at x_0 (Recurrences::Primal) is computed once per element, not once per direction.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

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

template <int K>
using Order = std::integral_constant<int, K>;
template <Activation A>
using ActivationConstant = std::integral_constant<Activation, A>;

template <class Fn, int... Ks>
void with_order_in(int K, Fn& fn, std::integer_sequence<int, Ks...>) {
  (void)((K == Ks && (fn(Order<Ks>()), true)) || ...);
}

/// Throws the error for a bad order or activation (defined in taylor_series.cpp, out of line, so
/// that the ISA builds of these kernels instantiate no LibTorch error-message code).
[[noreturn]] void fused_kernel_argument_error(const char* what, int value);

/// Calls fn(Order<K>()) for the runtime order 0 <= K < kMaxFused.
template <class Fn>
void with_order(int K, Fn&& fn) {
  if (!(K >= 0 && K < kMaxFused)) fused_kernel_argument_error("order K", K);
  with_order_in(K, fn, std::make_integer_sequence<int, kMaxFused>());
}

/// Calls fn(ActivationConstant<act>()).
template <class Fn>
void with_activation(Activation act, Fn&& fn) {
  switch (act) {
    case Activation::kTanh: return fn(ActivationConstant<Activation::kTanh>());
    case Activation::kSigmoid: return fn(ActivationConstant<Activation::kSigmoid>());
    case Activation::kSoftplus: return fn(ActivationConstant<Activation::kSoftplus>());
    case Activation::kSin: return fn(ActivationConstant<Activation::kSin>());
    case Activation::kSilu: return fn(ActivationConstant<Activation::kSilu>());
    case Activation::kGelu: return fn(ActivationConstant<Activation::kGelu>());
    case Activation::kRelu: return fn(ActivationConstant<Activation::kRelu>());
  }
  fused_kernel_argument_error("activation", static_cast<int>(act));
}

// Slab of coefficient k >= 1 of direction s (coefficient 0 is slab 0).
// (static: this header is also compiled with -mavx2, and an inline function's out-of-line copy
// from that file must not be what a CPU without AVX2 runs.)
static inline int64_t slab(int k, int64_t s, int64_t S) { return 1 + (k - 1) * S + s; }

template <class T, int K, Activation A, class F>
void fused_forward_range(const F* xp, F* yp, F* hp, int64_t S, int64_t E, const ActivationParams& p, int64_t begin,
                         int64_t end) {
  using IO = LaneTraits<T>;
  using Series = Small<T, K + 1>;
  using R = Recurrences<T, Series, Order<K>>;
  Series x, y, h;
  for (int64_t e = begin; e < end; e += IO::width) {
    const int64_t n = std::min<int64_t>(IO::width, end - e);
    x[0] = IO::load(xp + e, n);
    const auto g = R::primal(ActivationConstant<A>(), p, x[0]);
    for (int64_t s = 0; s < S; ++s) {
      REGULA_UNROLL for (int k = 1; k <= K; ++k) x[k] = IO::load(xp + slab(k, s, S) * E + e, n);
      R(x, Order<K>()).run(ActivationConstant<A>(), p, g, y, h);
      if (s == 0) {
        IO::store(y[0], yp + e, n);
        IO::store(h[0], hp + e, n);
      }
      REGULA_UNROLL for (int k = 1; k <= K; ++k) {
        IO::store(y[k], yp + slab(k, s, S) * E + e, n);
        IO::store(h[k], hp + slab(k, s, S) * E + e, n);
      }
    }
  }
}

template <class T, class F>
void fused_forward_kernel(const F* xp, F* yp, F* hp, int K, int64_t S, int64_t E, Activation act,
                          const ActivationParams& p) {
  with_order(K, [&](auto order) {
    with_activation(act, [&](auto a) {
      at::parallel_for(0, E, 2048, [&](int64_t begin, int64_t end) {
        fused_forward_range<T, decltype(order)::value, decltype(a)::value>(xp, yp, hp, S, E, p, begin, end);
      });
    });
  });
}

template <class T, int K, class F>
void fused_backward_range(const F* gyp, const F* hp, F* gxp, int64_t S, int64_t E, int64_t begin, int64_t end) {
  using IO = LaneTraits<T>;
  Small<T, K + 1> gy, h;
  for (int64_t e = begin; e < end; e += IO::width) {
    const int64_t n = std::min<int64_t>(IO::width, end - e);
    h[0] = IO::load(hp + e, n);
    T acc0 = IO::load(gyp + e, n) * h[0];
    for (int64_t s = 0; s < S; ++s) {
      REGULA_UNROLL for (int k = 1; k <= K; ++k) {
        gy[k] = IO::load(gyp + slab(k, s, S) * E + e, n);
        h[k] = IO::load(hp + slab(k, s, S) * E + e, n);
        acc0 = acc0 + gy[k] * h[k];
      }
      REGULA_UNROLL for (int i = 1; i <= K; ++i) {
        T acc = gy[i] * h[0];
        REGULA_UNROLL for (int k = i + 1; k <= K; ++k) acc = acc + gy[k] * h[k - i];
        IO::store(acc, gxp + slab(i, s, S) * E + e, n);
      }
    }
    IO::store(acc0, gxp + e, n);
  }
}

template <class T, class F>
void fused_backward_kernel(const F* gyp, const F* hp, F* gxp, int K, int64_t S, int64_t E) {
  with_order(K, [&](auto order) {
    at::parallel_for(0, E, 2048, [&](int64_t begin, int64_t end) {
      fused_backward_range<T, decltype(order)::value>(gyp, hp, gxp, S, E, begin, end);
    });
  });
}

/// sigma(x_0), sigma'(x_0), sigma''(x_0) of rows [rows, width] with x_0 = u + bias (bias [width]
/// or null), for the reverse engine: the first Taylor coefficients of y = g(x(t)) along
/// x(t) = x_0 + t, i.e. y_0 = g, h_0 = g', h_1 = g'' (the same recurrences, at order 1).
template <class T, Activation A, class F>
void fused_derivatives_range(const F* up, const F* bp, F* ap, F* s1p, F* s2p, int64_t width,
                             const ActivationParams& p, int64_t row_begin, int64_t row_end) {
  using IO = LaneTraits<T>;
  using O = SeriesOps<T>;
  using Series = Small<T, 2>;
  using R = Recurrences<T, Series, Order<1>>;
  Series x, y, h;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t row = r * width;
    for (int64_t c = 0; c < width; c += IO::width) {
      const int64_t n = std::min<int64_t>(IO::width, width - c);
      x[0] = IO::load(up + row + c, n);
      if (bp != nullptr) x[0] = x[0] + IO::load(bp + c, n);
      x[1] = O::zero(x[0]) + 1.0;
      const auto g = R::primal(ActivationConstant<A>(), p, x[0]);
      R(x, Order<1>()).run(ActivationConstant<A>(), p, g, y, h);
      IO::store(y[0], ap + row + c, n);
      IO::store(h[0], s1p + row + c, n);
      IO::store(h[1], s2p + row + c, n);
    }
  }
}

template <class T, class F>
void fused_derivatives_kernel(const F* up, const F* bp, F* ap, F* s1p, F* s2p, int64_t rows, int64_t width,
                              Activation act, const ActivationParams& p) {
  if (rows <= 0 || width <= 0) return;  // nothing to do (and no division by a zero width)
  with_activation(act, [&](auto a) {
    at::parallel_for(0, rows, std::max<int64_t>(1, 2048 / width), [&](int64_t begin, int64_t end) {
      fused_derivatives_range<T, decltype(a)::value>(up, bp, ap, s1p, s2p, width, p, begin, end);
    });
  });
}

}  // namespace regula::regularizers::taylor::detail
