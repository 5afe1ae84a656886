#pragma once
/// \file Regula's CPU matrix products: matmul() for tensors, gemm() on raw buffers, bmm_out() for
/// batches and linear() with autograd (the engines, the fused k-TV pass, models::MLP's Linears and
/// the batched diagonal-network sweep).
#include <string>

#include <torch/types.h>

namespace regula::core {

/// Which kernel matmul() runs on the CPU.
///  * kAvx512: Regula's register-blocked AVX-512 product (core/gemm_avx512.cpp), float32
///    and float64, any strides of X; 2-2.4x MKL's speed on the engines' skinny products on AMD
///    EPYC, where MKL takes its AVX2 path (measurements in docs/ktv-engine.md).
///  * kOneDnn: oneDNN's matmul (LibTorch's mkldnn::_linear_pointwise), float32 with a row-major X.
///  * kTorch: torch::mm.
/// kAuto (the default) takes the first of these that the CPU, the dtype and the layout allow.
/// The environment variable REGULA_MATMUL=auto|avx512|onednn|torch sets it (read on first use).
enum class MatmulKernel { kAuto, kAvx512, kOneDnn, kTorch };

/// X [m, n] @ Y [n, p] (either may be a transposed view), without autograd, with the kernel of
/// matmul_kernel() where it applies (CPU, float32/float64) and torch::mm everywhere else.
torch::Tensor matmul(const torch::Tensor& X, const torch::Tensor& Y);

/// C (+)= A B on raw buffers, on the calling thread, for hand-written passes that keep their own
/// buffers (the fused k-TV step): A [m, k] read as A(i, l) = a[i * a_row + l * a_col] (a
/// row-major or a transposed matrix alike), B [k, n] row-major (leading dimension ldb), C [m, n]
/// row-major (ldc), overwritten or, with `accumulate`, added to.  Regula's AVX-512 kernel when
/// the kernel resolves to it for F (float or double), else torch's mm on views of the buffers.
template <class F>
void gemm(int64_t m, int64_t n, int64_t k, const F* a, int64_t a_row, int64_t a_col, const F* b, int64_t ldb, F* c,
          int64_t ldc, bool accumulate);

/// out [P, m, n] = A [P, m, k] @ B [P, k, n] for every P, into a contiguous `out` (as at::bmm_out),
/// with the kernel of matmul_kernel() on the CPU (one problem per thread), at::bmm_out elsewhere.
void bmm_out(torch::Tensor& out, const torch::Tensor& A, const torch::Tensor& B);

/// x W^T + b (b may be undefined) for x [..., in], W [out, in], as torch::nn::functional::linear,
/// differentiable to any order: on the CPU its forward and first-order backward run through
/// matmul(); a backward that builds a graph (create_graph) uses LibTorch's differentiable ops.
/// bias_rows >= 0 adds b to the first bias_rows rows of x's rows [rows, in] only (a Taylor
/// coefficient stack, whose bias shifts coefficient 0 alone); -1 adds it to every row.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b, int64_t bias_rows = -1);

MatmulKernel matmul_kernel();
void set_matmul_kernel(MatmulKernel kernel);
/// The kernel matmul() runs for CPU operands of this dtype (kAuto resolved), and its name.
MatmulKernel resolved_matmul_kernel(torch::ScalarType dtype);
std::string matmul_kernel_name(MatmulKernel kernel);

}  // namespace regula::core
