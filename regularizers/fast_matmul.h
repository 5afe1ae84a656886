#pragma once
/// \file Plain matrix products for hand-written backward passes (internal to the engines).
#include <torch/types.h>

namespace regula::regularizers::detail {

/// X [m, n] @ Y [n, p] (either may be a transposed view), without autograd.  On the CPU in float32
/// with a row-major X this goes through oneDNN's matmul (LibTorch's mkldnn::_linear_pointwise) when LibTorch has it:
/// for the skinny products of the engines (1024 x 100 x 100) that is about twice as fast as the
/// MKL sgemm behind torch::mm on the AMD EPYC machines (bench/ktv_gemm_bound.py measures both).
/// Everywhere else, torch::mm.
torch::Tensor matmul(const torch::Tensor& X, const torch::Tensor& Y);

/// Whether matmul() uses oneDNN for CPU float32 (false: torch::mm everywhere).  On by default;
/// the environment variable REGULA_ONEDNN_MATMUL=0 turns it off.
bool onednn_matmul();
void set_onednn_matmul(bool enabled);

}  // namespace regula::regularizers::detail
