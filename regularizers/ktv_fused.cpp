// k-TV's fused CPU pass (see ktv_fused in ktv.h): the Taylor or the reverse engine's forward, the
// penalty and its backward to the parameters, run chunk by chunk of points on raw buffers inside
// one autograd node.  The unfused path (pure_partials_taylor, then ktv_from_partials) builds a
// LibTorch op and an autograd node per layer and keeps every layer's stacks for all M points, 2
// MB each at M = 1024 (k = 2, width 100, float32), far beyond the core's L2; here a chunk's stacks
// are a few hundred KB, reused from one chunk to the next, and gradients accumulate across chunks
// in the matrix product itself.
#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include "core/matmul.h"
#include "regularizers/ktv.h"
#include "regularizers/taylor_kernels.h"
#include "regularizers/taylor_recurrences.h"

namespace regula::regularizers {

namespace {

// Rows of a coefficient stack per chunk ((1 + k S) rows per point): 100 KB per stack of width 100
// in float32, so that a chunk's stacks stay in the core's L2.  Tuned with bench/ktv_step at k = 2
// and 5: 64 to 400 rows measure the same within noise; 1280 rows are 10-20% slower, and the
// whole batch at once (M = 1024: 5120 rows at k = 2) 15-100%.
constexpr int64_t kChunkRows = 256;

// One layer of the plan on raw buffers.
template <class F>
struct RawLayer {
  bool linear = false;
  int64_t in = 0, out = 0;         // widths (an activation: in == out)
  const F* W = nullptr;            // [out, in] row-major
  std::vector<F> Wt;               // W^T [in, out] row-major: the forward product's right operand
  const F* b = nullptr;            // [out] or null
  int param_W = -1, param_b = -1;  // indices into the parameter list
  taylor::Activation act = taylor::Activation::kTanh;
  taylor::ActivationParams params;
};

// The plan's layers over the parameters' buffers, the widest layer and the outputs p.
template <class F>
struct RawPlan {
  std::vector<RawLayer<F>> layers;
  int64_t max_width = 0;
  int64_t outputs;

  RawPlan(const TaylorPlan& plan, const std::vector<torch::Tensor>& params, int64_t d) : outputs(plan_outputs(plan)) {
    int next_param = 0;
    int64_t width = d;
    max_width = d;
    for (const auto& layer : plan.layers) {
      RawLayer<F> raw;
      if (layer.is_linear()) {
        raw.linear = true;
        raw.out = layer.weight.size(0);
        raw.in = layer.weight.size(1);
        raw.param_W = next_param++;
        raw.W = params[raw.param_W].template data_ptr<F>();
        raw.Wt.resize(raw.in * raw.out);
        for (int64_t o = 0; o < raw.out; ++o)
          for (int64_t i = 0; i < raw.in; ++i) raw.Wt[i * raw.out + o] = raw.W[o * raw.in + i];
        if (layer.bias.defined()) {
          raw.param_b = next_param++;
          raw.b = params[raw.param_b].template data_ptr<F>();
        }
        width = raw.out;
      } else {
        raw.in = raw.out = width;
        raw.act = layer.activation;
        raw.params = layer.params;
      }
      max_width = std::max(max_width, width);
      layers.push_back(std::move(raw));
    }
  }
};

// out [rows, L.out] = in L.W^T, plus the bias on the first bias_rows rows.
template <class F>
void linear_forward(const RawLayer<F>& L, const F* in, int64_t rows, int64_t bias_rows, F* out) {
  core::gemm<F>(rows, L.out, L.in, in, L.in, 1, L.Wt.data(), L.out, out, L.out, /*accumulate=*/false);
  if (L.b == nullptr) return;
  for (int64_t m = 0; m < bias_rows; ++m)
    for (int64_t o = 0; o < L.out; ++o) out[m * L.out + o] += L.b[o];
}

// dW += g^T x_in over `rows` rows, and db += the column sums of g's first bias_rows rows.
template <class F>
void linear_weight_grads(const RawLayer<F>& L, const F* g, const F* x_in, int64_t rows, int64_t bias_rows,
                         std::vector<std::vector<F>>& grads) {
  core::gemm<F>(L.out, L.in, rows, g, 1, L.out, x_in, L.in, grads[L.param_W].data(), L.in, /*accumulate=*/true);
  if (L.b == nullptr) return;
  auto& gb = grads[L.param_b];
  for (int64_t m = 0; m < bias_rows; ++m)
    for (int64_t o = 0; o < L.out; ++o) gb[o] += g[m * L.out + o];
}

// |D|^q and its derivative q |D|^{q-1} sign(D) (0 at D = 0, as LibTorch's abs and pow).
inline std::pair<double, double> power_term(double D, double q) {
  if (q == 2.0) return {D * D, 2.0 * D};
  const double a = std::abs(D), sign = D > 0 ? 1.0 : (D < 0 ? -1.0 : 0.0);
  if (q == 1.0) return {a, sign};
  return {std::pow(a, q), a > 0 ? q * std::pow(a, q - 1.0) * sign : 0.0};
}

// What one thread accumulates over its chunks: the sum of |D|^q and every parameter gradient.
template <class F>
struct Accumulator {
  double value = 0;
  std::vector<std::vector<F>> grads;
};

// A thread's buffers, grown to the largest chunk and kept for the thread's next chunks and calls
// (thread_local in run_chunks: the same shapes come back every step, so a step allocates nothing).
// A run() asks for each index at one size, so no pointer it holds is invalidated.
template <class F>
struct Workspace {
  std::vector<std::vector<F>> buffers;
  F* get(std::size_t i, int64_t n) {
    if (buffers.size() <= i) buffers.resize(i + 1);
    if (static_cast<int64_t>(buffers[i].size()) < n) buffers[i].resize(static_cast<std::size_t>(n));
    return buffers[i].data();
  }
};

// What both passes read: the plan, the points' dimension, the S coordinates, the power q and
// the factor of the penalty's gradient (scale / M).
template <class F>
struct PassBase {
  const RawPlan<F>& plan_;
  int64_t d_;
  const int64_t* coords_;
  int64_t S_;
  double power_, grad_scale_;
};

// Taylor mode (any order k): the coefficient stack [1 + k S, mc, width] through every layer
// (one product per Linear for all coefficients, the fused Taylor kernels per activation), the
// penalty on the top coefficients, and the reverse sweep of the same recurrences.
template <class F>
class TaylorPass : PassBase<F> {
  using B = PassBase<F>;
  using B::coords_, B::d_, B::grad_scale_, B::plan_, B::power_, B::S_;

 public:
  TaylorPass(const PassBase<F>& base, int order)
      : B(base), K_(order), R_(1 + order * base.S_), factorial_(taylor::factorial(order)) {}

  int64_t rows_per_point() const { return R_; }

  // Forward, penalty and (with `backward`) gradients for the points z [mc, d] (row-major).
  void run(const F* z, int64_t mc, bool backward, Workspace<F>& ws, Accumulator<F>& acc) const {
    const auto& layers = plan_.layers;
    const std::size_t L = layers.size();
    const int64_t rows = R_ * mc;
    // Buffers: 0 the input stack, 1 + l layer l's output, 1 + L + l its h series, then two for
    // the backward's running gradient.
    // Input stack: slab 0 = z, slab 1 + s = e_{c_s}, the higher slabs zero.
    F* x0 = ws.get(0, rows * d_);
    std::fill(x0, x0 + rows * d_, F(0));
    std::copy(z, z + mc * d_, x0);
    for (int64_t s = 0; s < S_; ++s)
      for (int64_t m = 0; m < mc; ++m) x0[((1 + s) * mc + m) * d_ + coords_[s]] = F(1);
    // Layer l reads the input stack (l = 0) or layer l - 1's output.
    const auto input = [&](std::size_t l) -> const F* { return l == 0 ? x0 : ws.get(l, rows * layers[l - 1].out); };
    const F* in = x0;
    for (std::size_t l = 0; l < L; ++l) {
      const auto& Ly = layers[l];
      F* out = ws.get(1 + l, rows * Ly.out);
      if (Ly.linear) linear_forward(Ly, in, rows, /*bias_rows=*/mc, out);  // the bias shifts x_0 only
      else taylor::detail::fused_forward<F>(in, out, ws.get(1 + L + l, rows * Ly.in), K_, S_, mc * Ly.in, Ly.act, Ly.params);
      in = out;
    }
    // The top slabs hold y_k along each direction: D = k! y_k.  The penalty sums |D|^q; its
    // gradient w.r.t. y_k is grad_scale q |D|^{q-1} sign(D) k!, zero on the lower slabs.
    const int64_t p = plan_.outputs, top = (1 + (K_ - 1) * S_) * mc * p, end = rows * p;
    F* g = backward ? ws.get(1 + 2 * L, rows * plan_.max_width) : nullptr;
    if (backward) std::fill(g, g + top, F(0));
    double sum = 0;
    for (int64_t i = top; i < end; ++i) {
      const auto [phi, dphi] = power_term(factorial_ * static_cast<double>(in[i]), power_);
      sum += phi;
      if (backward) g[i] = static_cast<F>(grad_scale_ * dphi * factorial_);
    }
    acc.value += sum;
    if (!backward) return;
    F* gnext = ws.get(2 + 2 * L, rows * plan_.max_width);
    for (std::size_t l = L; l-- > 0;) {
      const auto& Ly = layers[l];
      if (Ly.linear) {
        linear_weight_grads(Ly, g, input(l), rows, /*bias_rows=*/mc, acc.grads);
        if (l == 0) break;  // the points need no gradient
        core::gemm<F>(rows, Ly.in, Ly.out, g, Ly.out, 1, Ly.W, Ly.in, gnext, Ly.in, /*accumulate=*/false);
      } else {
        taylor::detail::fused_backward<F>(g, ws.get(1 + L + l, rows * Ly.in), gnext, K_, S_, mc * Ly.in);
      }
      std::swap(g, gnext);
    }
  }

 private:
  int K_;
  int64_t R_;
  double factorial_;
};

// The reverse pass's elementwise steps.  Each is written once (the *_impl templates, always
// inlined) and built twice through target_clones, for AVX-512 and for the baseline, picked when
// the library loads: 16 floats per instruction instead of SSE's 4 on the CPUs that have it.
// out[o E + e] = G[o E + e] s1[e] for the p slabs of a stack.
template <class F>
[[gnu::always_inline]] inline void scale_rows_impl(const F* __restrict G, const F* __restrict s1, int64_t p, int64_t E,
                                                   F* __restrict out) {
  for (int64_t o = 0; o < p; ++o)
    for (int64_t e = 0; e < E; ++e) out[o * E + e] = G[o * E + e] * s1[e];
}
// Through an activation: ubar = \sum_o gbar (.) g_out (.) g''(u), then gbar (.)= g'(u).
template <class F>
[[gnu::always_inline]] inline void activation_adjoint_impl(F* __restrict gbar, const F* __restrict g_out,
                                                           const F* __restrict s1, const F* __restrict s2, int64_t p,
                                                           int64_t E, F* __restrict ubar) {
  for (int64_t e = 0; e < E; ++e) {
    ubar[e] = gbar[e] * g_out[e] * s2[e];
    gbar[e] *= s1[e];
  }
  for (int64_t o = 1; o < p; ++o) {
    for (int64_t e = 0; e < E; ++e) {
      ubar[e] += gbar[o * E + e] * g_out[o * E + e] * s2[e];
      gbar[o * E + e] *= s1[e];
    }
  }
}
// cur = ubar + cur (.) s1.
template <class F>
[[gnu::always_inline]] inline void add_scaled_impl(const F* __restrict ubar, const F* __restrict s1, int64_t E,
                                                   F* __restrict cur) {
  for (int64_t e = 0; e < E; ++e) cur[e] = ubar[e] + cur[e] * s1[e];
}

#define REGULA_ELEMENTWISE_CLONES(F)                                                                             \
  [[gnu::target_clones("avx512f", "default")]] void scale_rows(const F* G, const F* s1, int64_t p, int64_t E,      \
                                                                F* out) {                                         \
    scale_rows_impl(G, s1, p, E, out);                                                                           \
  }                                                                                                              \
  [[gnu::target_clones("avx512f", "default")]] void activation_adjoint(F* gbar, const F* g_out, const F* s1,       \
                                                                        const F* s2, int64_t p, int64_t E,         \
                                                                        F* ubar) {                                \
    activation_adjoint_impl(gbar, g_out, s1, s2, p, E, ubar);                                                    \
  }                                                                                                              \
  [[gnu::target_clones("avx512f", "default")]] void add_scaled(const F* ubar, const F* s1, int64_t E, F* cur) {    \
    add_scaled_impl(ubar, s1, E, cur);                                                                           \
  }
REGULA_ELEMENTWISE_CLONES(float)
REGULA_ELEMENTWISE_CLONES(double)
#undef REGULA_ELEMENTWISE_CLONES

// Reverse mode (order 1; the math in reverse_engine.cpp): the forward pass up to the last
// activation, keeping g, g', g''; the input gradient G [p, mc, width] of the p outputs by the
// backward recurrence, each layer's incoming G kept; D[m, s, o] = G_0[o, m, c_s]; then the
// adjoint of that recurrence (first layer to last) and of the forward pass (last activation to
// first).  6 products of mc rows per hidden Linear for one output, against 9 for Taylor mode
// with S = 2.
template <class F>
class ReversePass : PassBase<F> {
  using B = PassBase<F>;
  using B::coords_, B::d_, B::grad_scale_, B::plan_, B::power_, B::S_;

 public:
  explicit ReversePass(const PassBase<F>& base) : B(base) {
    for (std::size_t l = 0; l < plan_.layers.size(); ++l)
      if (!plan_.layers[l].linear) last_activation_ = static_cast<int64_t>(l);
  }

  int64_t rows_per_point() const { return 1 + plan_.outputs; }

  void run(const F* z, int64_t mc, bool backward, Workspace<F>& ws, Accumulator<F>& acc) const {
    const auto& layers = plan_.layers;
    const std::size_t L = layers.size();
    const int64_t p = plan_.outputs, pm = p * mc, wmax = plan_.max_width;
    // Buffers: 5 l + 0..4 = layer l's output (u or g(u)), g'(u), g''(u), the G entering it from
    // above [p mc, out], and ubar; 5 L = G at the points, 5 L + 1..4 the running adjoints.
    const auto buf = [&](int64_t l, int slot, int64_t n) { return ws.get(static_cast<std::size_t>(5 * l + slot), n); };
    // Layer l reads the points (l = 0) or layer l - 1's output.
    const auto input = [&](int64_t l) -> const F* { return l == 0 ? z : buf(l - 1, 0, mc * layers[l - 1].out); };
    const F* in = z;
    for (int64_t l = 0; l <= last_activation_; ++l) {  // later Linears act through their weights only
      const auto& Ly = layers[l];
      F* out = buf(l, 0, mc * Ly.out);
      if (Ly.linear) {
        linear_forward(Ly, in, mc, /*bias_rows=*/mc, out);
      } else {
        taylor::detail::fused_derivatives<F>(in, nullptr, out, buf(l, 1, mc * Ly.in), buf(l, 2, mc * Ly.in), mc, Ly.in,
                                             Ly.act, Ly.params);
      }
      in = out;
    }
    // Input gradient, from the identity of the p outputs down to the points.
    F* G = buf(static_cast<int64_t>(L) - 1, 3, pm * p);
    std::fill(G, G + pm * p, F(0));
    for (int64_t o = 0; o < p; ++o)
      for (int64_t m = 0; m < mc; ++m) G[(o * mc + m) * p + o] = F(1);
    F* Gin = nullptr;  // G at the points [p mc, d]
    for (int64_t l = static_cast<int64_t>(L) - 1; l >= 0; --l) {
      const auto& Ly = layers[l];
      const F* Gl = buf(l, 3, pm * Ly.out);
      F* below = l > 0 ? buf(l - 1, 3, pm * Ly.in) : ws.get(5 * L, pm * d_);
      if (Ly.linear) core::gemm<F>(pm, Ly.in, Ly.out, Gl, Ly.out, 1, Ly.W, Ly.in, below, Ly.in, /*accumulate=*/false);
      else scale_rows(Gl, buf(l, 1, mc * Ly.in), p, mc * Ly.in, below);
      Gin = below;
    }
    // D[m, s, o] = G[o, m, c_s]; the penalty's gradient w.r.t. G at those entries.
    F* gbar = backward ? ws.get(5 * L + 1, pm * wmax) : nullptr;
    if (backward) std::fill(gbar, gbar + pm * d_, F(0));
    double sum = 0;
    for (int64_t o = 0; o < p; ++o) {
      for (int64_t m = 0; m < mc; ++m) {
        for (int64_t s = 0; s < S_; ++s) {
          const int64_t at = (o * mc + m) * d_ + coords_[s];
          const auto [phi, dphi] = power_term(static_cast<double>(Gin[at]), power_);
          sum += phi;
          if (backward) gbar[at] += static_cast<F>(grad_scale_ * dphi);
        }
      }
    }
    acc.value += sum;
    if (!backward) return;
    // Adjoint of the input-gradient recurrence, first layer to last.
    F* gnext = ws.get(5 * L + 2, pm * wmax);
    for (int64_t l = 0; l < static_cast<int64_t>(L); ++l) {
      const auto& Ly = layers[l];
      const F* Gl = buf(l, 3, pm * Ly.out);
      if (Ly.linear) {
        core::gemm<F>(Ly.out, Ly.in, pm, Gl, 1, Ly.out, gbar, Ly.in, acc.grads[Ly.param_W].data(), Ly.in,
                      /*accumulate=*/true);
        if (l + 1 < static_cast<int64_t>(L)) {
          core::gemm<F>(pm, Ly.out, Ly.in, gbar, Ly.in, 1, Ly.Wt.data(), Ly.out, gnext, Ly.out, /*accumulate=*/false);
          std::swap(gbar, gnext);
        }
      } else {
        activation_adjoint(gbar, Gl, buf(l, 1, mc * Ly.in), buf(l, 2, mc * Ly.in), p, mc * Ly.in, buf(l, 4, mc * Ly.in));
      }
    }
    // ubar back through the forward pass, last activation to first: cur = the adjoint of the
    // current layer's output.
    F* cur = ws.get(5 * L + 3, mc * wmax);
    F* cnext = ws.get(5 * L + 4, mc * wmax);
    bool have_cur = false;
    for (int64_t l = last_activation_; l >= 0; --l) {
      const auto& Ly = layers[l];
      if (!Ly.linear) {
        const int64_t E = mc * Ly.in;
        if (have_cur) add_scaled(buf(l, 4, E), buf(l, 1, E), E, cur);
        else std::copy(buf(l, 4, E), buf(l, 4, E) + E, cur);
        have_cur = true;
      } else {
        linear_weight_grads(Ly, cur, input(l), mc, /*bias_rows=*/mc, acc.grads);
        if (l == 0) break;
        core::gemm<F>(mc, Ly.in, Ly.out, cur, Ly.out, 1, Ly.W, Ly.in, cnext, Ly.in, /*accumulate=*/false);
        std::swap(cur, cnext);
      }
    }
  }

 private:
  int64_t last_activation_ = -1;
};

// The chunks of M points over the threads, each with its own workspace and accumulator; returns
// \sum |D|^q and, with `backward`, fills `grads` (one tensor per parameter).
template <class F, class Pass>
double run_chunks(const Pass& pass, const F* z, int64_t M, int64_t d, bool backward,
                  const std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& grads) {
  // Chunks of kChunkRows stack rows, smaller when that leaves a thread without one.
  const int64_t threads_wanted = std::max<int64_t>(1, at::get_num_threads());
  const int64_t chunk = std::max<int64_t>(1, std::min(kChunkRows / pass.rows_per_point(),
                                                      (M + threads_wanted - 1) / threads_wanted));
  const int64_t chunks = (M + chunk - 1) / chunk;
  const int threads = static_cast<int>(std::min(threads_wanted, chunks));
  std::vector<Accumulator<F>> acc(threads);
  for (auto& a : acc) {
    for (const auto& p : params) a.grads.emplace_back(static_cast<std::size_t>(backward ? p.numel() : 0), F(0));
  }
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    static thread_local Workspace<F> ws;
    const int t = std::min(at::get_thread_num(), threads - 1);
    for (int64_t i = begin; i < end; ++i) {
      const int64_t m0 = i * chunk, mc = std::min(chunk, M - m0);
      pass.run(z + m0 * d, mc, backward, ws, acc[t]);
    }
  });
  double value = 0;
  for (const auto& a : acc) value += a.value;
  if (!backward) return value;
  for (std::size_t j = 0; j < params.size(); ++j) {
    auto gj = torch::empty_like(params[j], torch::MemoryFormat::Contiguous);
    F* out = gj.template data_ptr<F>();
    std::copy(acc[0].grads[j].begin(), acc[0].grads[j].end(), out);
    for (int t = 1; t < threads; ++t)
      for (std::size_t e = 0; e < acc[t].grads[j].size(); ++e) out[e] += acc[t].grads[j][e];
    grads.push_back(gj);
  }
  return value;
}

// value = scale (1/M) \sum |D|^q, with the parameter gradients computed in forward() (they are
// known there: the penalty is the graph's end) and scaled by the incoming gradient in backward().
struct FusedKTVFunction : public torch::autograd::Function<FusedKTVFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& points,
                               const torch::Tensor& coords, const TaylorPlan* plan, int64_t engine, int64_t order,
                               double power, double scale, bool backward, at::TensorList param_list) {
    const std::vector<torch::Tensor> params(param_list.begin(), param_list.end());
    const int64_t M = points.size(0), d = points.size(1), S = coords.size(0);
    const auto z = points.contiguous();
    const auto c = coords.contiguous();
    std::vector<torch::Tensor> grads;
    double value = 0;
    AT_DISPATCH_FLOATING_TYPES(points.scalar_type(), "ktv_fused", [&] {
      using F = scalar_t;
      const RawPlan<F> raw(*plan, params, d);
      const double grad_scale = scale / static_cast<double>(M);
      const F* zp = z.data_ptr<F>();
      const int64_t* cp = c.data_ptr<int64_t>();
      const PassBase<F> base{raw, d, cp, S, power, grad_scale};
      if (static_cast<Engine>(engine) == Engine::kReverse) {
        value = run_chunks(ReversePass<F>(base), zp, M, d, backward, params, grads);
      } else {
        value = run_chunks(TaylorPass<F>(base, static_cast<int>(order)), zp, M, d, backward, params, grads);
      }
    });
    ctx->saved_data["backward"] = backward;
    ctx->save_for_backward(grads);
    return torch::tensor(value * scale / static_cast<double>(M), points.options().requires_grad(false));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    TORCH_CHECK(ctx->saved_data["backward"].toBool(),
                "the fused k-TV pass ran without gradients (under no_grad); call it with grad mode on");
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "the fused k-TV pass has a first-order backward only (no create_graph through it)");
    const auto saved = ctx->get_saved_variables();
    torch::autograd::variable_list out(8);  // points, coords, plan, engine, order, power, scale, backward: none
    for (const auto& g : saved) out.push_back(g * grad_outputs[0]);
    return out;
  }
};

}  // namespace

torch::Tensor ktv_fused(const TaylorPlan& plan, const torch::Tensor& points, const torch::Tensor& coords,
                        int64_t order, double power, double scale, Engine engine) {
  if (engine == Engine::kAuto && plan.supported()) engine = fastest_engine(plan, order, coords.size(0));
  const auto dtype = points.scalar_type();
  bool applies = plan.supported() && taylor::fused_cpu_kernels() && order >= 1 && order < taylor::detail::kMaxFused &&
                 (engine == Engine::kTaylor || (engine == Engine::kReverse && order == 1)) && points.dim() == 2 &&
                 points.size(1) == plan.input_dim && points.size(0) > 0 && points.device().is_cpu() &&
                 !points.requires_grad() && (dtype == torch::kFloat32 || dtype == torch::kFloat64) &&
                 coords.dim() == 1 && coords.size(0) > 0 && coords.device().is_cpu() &&
                 coords.scalar_type() == torch::kInt64;
  if (applies) {  // coordinates outside 0..d-1 are left to the unfused path, which says so
    const auto c = coords.contiguous();
    const int64_t* cp = c.data_ptr<int64_t>();
    for (int64_t s = 0; s < c.size(0); ++s) applies = applies && cp[s] >= 0 && cp[s] < points.size(1);
  }
  const auto params = plan_parameters(plan);
  for (const auto& t : params) applies = applies && t.device().is_cpu() && t.scalar_type() == dtype && t.is_contiguous();
  if (!applies) return {};
  bool backward = false;
  if (torch::GradMode::is_enabled()) {
    for (const auto& p : params) backward = backward || p.requires_grad();
  }
  return FusedKTVFunction::apply(points, coords, &plan, static_cast<int64_t>(engine), order, power, scale, backward,
                                 at::TensorList(params));
}

}  // namespace regula::regularizers
