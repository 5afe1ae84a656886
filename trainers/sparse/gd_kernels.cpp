#include "trainers/sparse/gd_kernels.h"

#include <algorithm>

#include <ATen/Context.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include "core/errors.h"

namespace regula::sparse {
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

}  // namespace regula::sparse
