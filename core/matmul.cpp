#include "core/matmul.h"

#include <atomic>
#include <cstdlib>
#include <optional>
#include <type_traits>

#include <ATen/Context.h>
#include <ATen/Dispatch.h>
#include <ATen/MemoryOverlap.h>
#include <ATen/ops/bmm.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/nn/functional/linear.h>

#include "core/device.h"
#include "core/errors.h"
#include "core/gemm_kernels.h"

namespace regula::core {

namespace {

MatmulKernel kernel_from_env() {
  const char* env = std::getenv("REGULA_MATMUL");
  if (env == nullptr || *env == '\0') return MatmulKernel::kAuto;
  for (auto k : {MatmulKernel::kAuto, MatmulKernel::kAvx512, MatmulKernel::kOneDnn, MatmulKernel::kTorch}) {
    if (matmul_kernel_name(k) == env) return k;
  }
  throw ConfigError(std::string("REGULA_MATMUL='") + env + "' is not a matmul kernel; use auto, avx512, onednn or torch");
}

// The kernel set by set_matmul_kernel(); kUnset until then, when REGULA_MATMUL decides (read on
// first use, not in a static initialiser, so that a bad value is an error a caller can catch).
constexpr int kUnset = -1;
std::atomic<int> g_kernel{kUnset};

MatmulKernel current_kernel() {
  const int k = g_kernel.load();
  if (k != kUnset) return static_cast<MatmulKernel>(k);
  static const MatmulKernel from_env = kernel_from_env();
  return from_env;
}

// mkldnn::_linear_pointwise(Tensor X, Tensor W, Tensor? B, str attr, Scalar?[] scalars, str? algorithm):
// X W^T + B with oneDNN; absent when LibTorch is built without it.
const std::optional<c10::OperatorHandle>& linear_pointwise() {
  static const auto op = [] {
    std::optional<c10::OperatorHandle> handle;
    if (at::hasMKLDNN()) handle = c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""});
    return handle;
  }();
  return op;
}

// C [m, n] = A B on the calling thread's pool: rows of C in blocks of 64 when there are more rows
// than columns, else columns in blocks of 64 (a weight gradient: few rows, a long k).  Inline
// with one thread.
template <class T>
void parallel_gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t ldb,
                   T* c, int64_t ldc) {
  constexpr int64_t kGrain = 64;
  if (m >= n) {
    at::parallel_for(0, m, kGrain, [&](int64_t begin, int64_t end) {
      gemm_avx512(end - begin, n, k, a + begin * a_row, a_row, a_col, b, ldb, c + begin * ldc, ldc);
    });
  } else {
    at::parallel_for(0, (n + kGrain - 1) / kGrain, 1, [&](int64_t begin, int64_t end) {
      const int64_t j0 = begin * kGrain, j1 = std::min(n, end * kGrain);
      gemm_avx512(m, j1 - j0, k, a, a_row, a_col, b + j0, ldb, c + j0, ldc);
    });
  }
}

template <class T>
torch::Tensor avx512_matmul(const torch::Tensor& X, const torch::Tensor& Y) {
  const int64_t m = X.size(0), k = X.size(1), n = Y.size(1);
  const auto B = Y.stride(1) == 1 ? Y : Y.contiguous();  // a transposed weight: k x n, small
  auto C = torch::empty({m, n}, X.options());
  parallel_gemm(m, n, k, X.data_ptr<T>(), X.stride(0), X.stride(1), B.data_ptr<T>(), B.stride(0), C.data_ptr<T>(), n);
  return C;
}

// The rows of y [rows, out] that take the bias: all (bias_rows < 0) or the first bias_rows.
torch::Tensor bias_part(const torch::Tensor& y, int64_t bias_rows) {
  return bias_rows < 0 ? y : y.narrow(0, 0, bias_rows);
}

// y = x W^T + b for a 2-D x; the backward runs through matmul() unless it must build a graph.
struct Linear : public torch::autograd::Function<Linear> {
  // b: the bias, or an empty tensor for none (autograd::Function cannot take an undefined one).
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& W,
                               const torch::Tensor& b, int64_t bias_rows) {
    const bool bias = b.numel() > 0;
    ctx->save_for_backward({x, W});
    ctx->saved_data["bias"] = bias;
    ctx->saved_data["bias_rows"] = bias_rows;
    auto y = core::matmul(x, W.t());
    if (bias) bias_part(y, bias_rows).add_(b);
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &W = saved[1];
    const auto gy = grads[0].contiguous();
    const bool graph = torch::GradMode::is_enabled();  // create_graph: stay differentiable
    const auto mm = [graph](const torch::Tensor& a, const torch::Tensor& b) {
      return graph ? torch::mm(a, b) : core::matmul(a, b);
    };
    torch::Tensor gx, gW, gb;
    if (ctx->needs_input_grad(0)) gx = mm(gy, W);
    if (ctx->needs_input_grad(1)) gW = mm(gy.t(), x);
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) {
      gb = bias_part(gy, ctx->saved_data["bias_rows"].toInt()).sum(0);
    }
    return {gx, gW, gb, torch::Tensor()};
  }
};

}  // namespace

void bmm_out(torch::Tensor& out, const torch::Tensor& A, const torch::Tensor& B) {
  // Anything unusual (shapes, devices, dtypes, an `out` that overlaps an operand) goes to
  // at::bmm_out, which handles it or says what is wrong.
  const bool shapes = A.dim() == 3 && B.dim() == 3 && out.dim() == 3 && B.size(0) == A.size(0) &&
                      B.size(1) == A.size(2) && out.size(0) == A.size(0) && out.size(1) == A.size(1) &&
                      out.size(2) == B.size(2) && A.numel() > 0 && B.numel() > 0;
  const bool fast = shapes && A.device().is_cpu() && B.device().is_cpu() && out.device().is_cpu() &&
                    A.scalar_type() == B.scalar_type() && out.scalar_type() == A.scalar_type() && out.is_contiguous() &&
                    at::get_overlap_status(out, A) == at::MemOverlapStatus::No &&
                    at::get_overlap_status(out, B) == at::MemOverlapStatus::No &&
                    resolved_matmul_kernel(A.scalar_type()) == MatmulKernel::kAvx512;
  if (!fast) {
    at::bmm_out(out, A, B);
    return;
  }
  const int64_t P = A.size(0), m = A.size(1), k = A.size(2), n = B.size(2);
  const auto Bc = B.stride(2) == 1 ? B : B.contiguous();
  AT_DISPATCH_FLOATING_TYPES(A.scalar_type(), "bmm_out", [&] {
    const scalar_t* a = A.data_ptr<scalar_t>();
    const scalar_t* b = Bc.data_ptr<scalar_t>();
    scalar_t* c = out.data_ptr<scalar_t>();
    const auto one = [&](int64_t p, bool parallel) {
      const auto* ap = a + p * A.stride(0);
      const auto* bp = b + p * Bc.stride(0);
      if (parallel) parallel_gemm(m, n, k, ap, A.stride(1), A.stride(2), bp, Bc.stride(1), c + p * m * n, n);
      else gemm_avx512(m, n, k, ap, A.stride(1), A.stride(2), bp, Bc.stride(1), c + p * m * n, n);
    };
    if (P >= at::get_num_threads()) {  // a problem per thread
      at::parallel_for(0, P, 1, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) one(p, false);
      });
    } else {  // fewer problems than threads: each product split across them
      for (int64_t p = 0; p < P; ++p) one(p, true);
    }
  });
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b, int64_t bias_rows) {
  // Anything unusual (shapes, devices, dtypes) goes to LibTorch's linear, which handles it or
  // says what is wrong.
  const bool fast = x.dim() >= 1 && W.dim() == 2 && x.size(-1) == W.size(1) && x.device().is_cpu() &&
                    W.device().is_cpu() && x.scalar_type() == W.scalar_type() &&
                    (!b.defined() || (b.dim() == 1 && b.size(0) == W.size(0) && b.device().is_cpu() &&
                                      b.scalar_type() == W.scalar_type())) &&
                    resolved_matmul_kernel(x.scalar_type()) != MatmulKernel::kTorch;
  if (!fast) {
    if (bias_rows < 0) return torch::nn::functional::linear(x, W, b);
    auto y = torch::nn::functional::linear(x.reshape({-1, x.size(-1)}), W);  // differentiable, as above
    if (b.defined()) bias_part(y, bias_rows).add_(b);
    auto shape = x.sizes().vec();
    shape.back() = W.size(0);
    return y.view(shape);
  }
  const auto x2 = x.reshape({-1, x.size(-1)});
  torch::Tensor y;
  if (torch::GradMode::is_enabled() && (x.requires_grad() || W.requires_grad() || (b.defined() && b.requires_grad()))) {
    y = Linear::apply(x2, W, b.defined() ? b : W.new_empty({0}), bias_rows);
  } else {
    y = core::matmul(x2, W.t());
    if (b.defined()) bias_part(y, bias_rows).add_(b);
  }
  auto shape = x.sizes().vec();
  shape.back() = W.size(0);
  return y.view(shape);
}

template <class F>
void gemm(int64_t m, int64_t n, int64_t k, const F* a, int64_t a_row, int64_t a_col, const F* b, int64_t ldb, F* c,
          int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  constexpr auto dtype = std::is_same_v<F, float> ? torch::kFloat32 : torch::kFloat64;
  if (k > 0 && resolved_matmul_kernel(dtype) == MatmulKernel::kAvx512) {
    gemm_avx512(m, n, k, a, a_row, a_col, b, ldb, c, ldc, accumulate);
    return;
  }
  const auto opts = torch::TensorOptions().dtype(dtype);
  auto C = torch::from_blob(c, {m, n}, {ldc, 1}, opts);
  const auto A = torch::from_blob(const_cast<F*>(a), {m, k}, {a_row, a_col}, opts);
  const auto B = torch::from_blob(const_cast<F*>(b), {k, n}, {ldb, 1}, opts);
  C.addmm_(A, B, /*beta=*/accumulate ? 1 : 0);  // beta = 0 ignores C's old contents, NaNs included
}
template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*,
                          int64_t, bool);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t, const double*, int64_t,
                           double*, int64_t, bool);

MatmulKernel matmul_kernel() { return current_kernel(); }
void set_matmul_kernel(MatmulKernel kernel) { g_kernel = static_cast<int>(kernel); }

std::string matmul_kernel_name(MatmulKernel kernel) {
  switch (kernel) {
    case MatmulKernel::kAuto: return "auto";
    case MatmulKernel::kAvx512: return "avx512";
    case MatmulKernel::kOneDnn: return "onednn";
    case MatmulKernel::kTorch: return "torch";
  }
  return "?";
}

MatmulKernel resolved_matmul_kernel(torch::ScalarType dtype) {
  const bool real = dtype == torch::kFloat32 || dtype == torch::kFloat64;
  const bool avx512 = real && cpu_has_avx512();
  const bool onednn = dtype == torch::kFloat32 && linear_pointwise().has_value();
  switch (current_kernel()) {
    case MatmulKernel::kAuto: return avx512 ? MatmulKernel::kAvx512 : onednn ? MatmulKernel::kOneDnn : MatmulKernel::kTorch;
    case MatmulKernel::kAvx512: return avx512 ? MatmulKernel::kAvx512 : MatmulKernel::kTorch;
    case MatmulKernel::kOneDnn: return onednn ? MatmulKernel::kOneDnn : MatmulKernel::kTorch;
    case MatmulKernel::kTorch: return MatmulKernel::kTorch;
  }
  return MatmulKernel::kTorch;
}

torch::Tensor matmul(const torch::Tensor& X, const torch::Tensor& Y) {
  // Anything but two matching CPU matrices of one dtype goes to torch::mm, which handles it or
  // says what is wrong.
  if (X.dim() != 2 || Y.dim() != 2 || X.size(1) != Y.size(0) || !X.device().is_cpu() || !Y.device().is_cpu() ||
      X.scalar_type() != Y.scalar_type() || X.numel() == 0 || Y.size(1) == 0) {
    return torch::mm(X, Y);
  }
  switch (resolved_matmul_kernel(X.scalar_type())) {
    case MatmulKernel::kAvx512:
      return X.scalar_type() == torch::kFloat32 ? avx512_matmul<float>(X, Y) : avx512_matmul<double>(X, Y);
    case MatmulKernel::kOneDnn:
      // A transposed X (a weight gradient X^T Y) stays with MKL, which reads it in place; the
      // oneDNN op would copy it first.
      if (X.is_contiguous()) {
        std::vector<c10::IValue> stack = {X, Y.t(), c10::IValue(), c10::IValue(std::string("none")),
                                          c10::IValue(c10::List<std::optional<c10::Scalar>>()), c10::IValue()};
        linear_pointwise()->callBoxed(&stack);
        return stack[0].toTensor();
      }
      break;
    default: break;
  }
  return torch::mm(X, Y);
}

}  // namespace regula::core
