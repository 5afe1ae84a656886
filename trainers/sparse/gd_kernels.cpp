#include "trainers/sparse/gd_kernels.h"

#include <algorithm>

#include <ATen/Context.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include "core/device.h"
#include "core/errors.h"
#include "trainers/sparse/design_kernels.h"

namespace regula::sparse {
namespace detail {
// The AVX2/FMA builds of design_kernels.h (gd_kernels_avx2.cpp).
#define REGULA_DESIGN_PRODUCTS_AVX2(T, F)                                                                    \
  void design_products_rows_avx2(const T* X, int64_t n, int64_t d, const F* W, int64_t C, const F* y, F* R, \
                                 F* G, int64_t row_begin, int64_t row_end);
REGULA_DESIGN_PRODUCTS_AVX2(int8_t, float)
REGULA_DESIGN_PRODUCTS_AVX2(int8_t, double)
REGULA_DESIGN_PRODUCTS_AVX2(float, float)
REGULA_DESIGN_PRODUCTS_AVX2(double, double)
#undef REGULA_DESIGN_PRODUCTS_AVX2
}  // namespace detail

namespace {

/// x^E by multiplication, E known at compile time (E = -1: the runtime exponent e).
template <int E, class F>
inline F power(F x, int64_t e) {
  if constexpr (E >= 0) {
    F r = F(1);
    for (int i = 0; i < E; ++i) r *= x;
    return r;
  } else {
    F r = F(1);
    for (int64_t i = 0; i < e; ++i) r *= x;
    return r;
  }
}

// One run (row of d elements).  N: the depth when known at compile time (0: runtime `depth`).
template <int N, bool Positive, class F>
void descend_row(F* u, F* v, F* w, const F* g, F s, int64_t d, int64_t depth) {
  constexpr int Em1 = N > 0 ? N - 1 : -1, E = N > 0 ? N : -1;
  for (int64_t e = 0; e < d; ++e) {
    const F gs = g[e] * s;
    const F un = u[e] - gs * power<Em1>(u[e], depth - 1);
    u[e] = un;
    F wn = power<E>(un, depth);
    if constexpr (!Positive) {
      const F vn = v[e] + gs * power<Em1>(v[e], depth - 1);
      v[e] = vn;
      wn -= power<E>(vn, depth);
    }
    w[e] = wn;
  }
}

template <bool Positive, class F>
void descend_row_any(F* u, F* v, F* w, const F* g, F s, int64_t d, int64_t depth) {
  switch (depth) {
    case 1: return descend_row<1, Positive>(u, v, w, g, s, d, depth);
    case 2: return descend_row<2, Positive>(u, v, w, g, s, d, depth);
    case 3: return descend_row<3, Positive>(u, v, w, g, s, d, depth);
    case 4: return descend_row<4, Positive>(u, v, w, g, s, d, depth);
    case 5: return descend_row<5, Positive>(u, v, w, g, s, d, depth);
    case 6: return descend_row<6, Positive>(u, v, w, g, s, d, depth);
    default: return descend_row<0, Positive>(u, v, w, g, s, d, depth);
  }
}

}  // namespace

void fused_descent(torch::Tensor& u, torch::Tensor& v, torch::Tensor& w, const torch::Tensor& g,
                   const torch::Tensor& scale, const std::vector<int64_t>& depths) {
  const bool positive = !v.defined();
  TORCH_CHECK(u.device().is_cpu() && u.dim() == 3 && u.is_contiguous() && w.is_contiguous() && g.is_contiguous() &&
                  scale.is_contiguous() && (positive || v.is_contiguous()),
              "fused_descent needs contiguous CPU tensors [P, C, d]");
  TORCH_CHECK(w.sizes() == u.sizes() && g.sizes() == u.sizes() && (positive || v.sizes() == u.sizes()) &&
                  scale.numel() == u.size(0) * u.size(1),
              "fused_descent: shapes of u, v, w, g, scale disagree");
  const auto like_u = [&](const torch::Tensor& t) {
    return !t.defined() || (t.device().is_cpu() && t.scalar_type() == u.scalar_type());
  };
  TORCH_CHECK(like_u(v) && like_u(w) && like_u(g) && like_u(scale),
              "fused_descent: u, v, w, g and scale must be CPU tensors of one dtype");
  const int64_t C = u.size(1), d = u.size(2), runs = u.size(0) * C;
  TORCH_CHECK(static_cast<int64_t>(depths.size()) == C, "fused_descent: ", depths.size(), " depths for ", C,
              " configurations");
  AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "fused_descent", [&] {
    using F = scalar_t;
    F *up = u.data_ptr<F>(), *vp = positive ? nullptr : v.data_ptr<F>(), *wp = w.data_ptr<F>();
    const F *gp = g.data_ptr<F>(), *sp = scale.data_ptr<F>();
    at::parallel_for(0, runs, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)), [&](int64_t begin, int64_t end) {
      // Flush-to-zero is per thread: the GD state decays towards zero, and denormals are slow.
      at::globalContext().setFlushDenormal(true);
      for (int64_t r = begin; r < end; ++r) {
        const int64_t o = r * d, depth = depths[static_cast<std::size_t>(r % C)];
        if (positive) descend_row_any<true>(up + o, vp, wp + o, gp + o, sp[r], d, depth);
        else descend_row_any<false>(up + o, vp + o, wp + o, gp + o, sp[r], d, depth);
      }
    });
  });
}

torch::Tensor exact_int8(const torch::Tensor& X) {
  if (!X.device().is_cpu() || !X.is_floating_point() || X.numel() == 0) return {};
  torch::NoGradGuard no_grad;
  const auto q = X.round().clamp(-127, 127);
  if (!q.eq(X).all().item<bool>()) return {};
  return q.to(torch::kInt8).contiguous();
}

void design_products(const torch::Tensor& X, const torch::Tensor& W, const torch::Tensor& y, torch::Tensor& R,
                     torch::Tensor* G) {
  TORCH_CHECK(X.device().is_cpu() && X.dim() == 3 && X.is_contiguous() &&
                  (X.scalar_type() == torch::kInt8 || X.scalar_type() == W.scalar_type()),
              "design_products needs a contiguous CPU design [P, n, d] of int8 or of W's dtype");
  const int64_t P = X.size(0), n = X.size(1), d = X.size(2), C = W.size(1);
  const auto same = [&](const torch::Tensor& t, std::initializer_list<int64_t> shape) {
    return t.device().is_cpu() && t.scalar_type() == W.scalar_type() && t.is_contiguous() && t.sizes() == shape;
  };
  TORCH_CHECK(same(W, {P, C, d}) && same(y, {P, 1, n}) && same(R, {P, C, n}) && (!G || same(*G, {P, C, d})),
              "design_products: W [P, C, d], y [P, 1, n], R [P, C, n], G [P, C, d] must be contiguous CPU "
              "tensors of one dtype");
  const bool avx2 = core::cpu_has_avx2_fma();
  // Each problem's rows in `chunks` slices, enough to keep every thread busy; a slice's share
  // of G goes into its own partial sum (when there is more than one), added up at the end.
  const int64_t threads = at::get_num_threads();
  const int64_t chunks = std::clamp<int64_t>((threads + P - 1) / P, 1, std::max<int64_t>(1, n / 64));
  torch::Tensor partial;
  if (G && chunks > 1) partial = torch::zeros({chunks, P, C, d}, W.options());
  else if (G) G->zero_();
  AT_DISPATCH_FLOATING_TYPES(W.scalar_type(), "design_products", [&] {
    using F = scalar_t;
    const F *Wp = W.data_ptr<F>(), *yp = y.data_ptr<F>();
    F *Rp = R.data_ptr<F>(), *Gp = !G ? nullptr : chunks > 1 ? partial.data_ptr<F>() : G->data_ptr<F>();
    const auto run = [&](const auto* Xp) {
      at::parallel_for(0, P * chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t p = t / chunks, k = t % chunks;
          // Slice boundaries on multiples of the kernel's row block.
          const int64_t per = (n / chunks + detail::kRowBlock - 1) / detail::kRowBlock * detail::kRowBlock;
          const int64_t lo = std::min(n, k * per), hi = k + 1 == chunks ? n : std::min(n, lo + per);
          F* g = Gp ? Gp + (k * P + p) * C * d : nullptr;
          const auto* x = Xp + p * n * d;
          if (avx2) detail::design_products_rows_avx2(x, n, d, Wp + p * C * d, C, yp + p * n, Rp + p * C * n, g, lo, hi);
          else detail::design_products_rows(x, n, d, Wp + p * C * d, C, yp + p * n, Rp + p * C * n, g, lo, hi);
        }
      });
    };
    if (X.scalar_type() == torch::kInt8) run(X.data_ptr<int8_t>());
    else run(X.data_ptr<F>());
  });
  if (G && chunks > 1) at::sum_out(*G, partial, {0});
}

}  // namespace regula::sparse
