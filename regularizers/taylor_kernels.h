#pragma once
/// \file Fused CPU kernels of the Taylor activations (internal): Y, H [K+1, E] from X [K+1, E]
/// (contiguous float or double, K < 16) and the backward g_{x_i} = \sum_{k>=i} g_{y_k} h_{k-i}.
#include <torch/types.h>

#include "regularizers/taylor_series.h"

namespace regula::regularizers::taylor::detail {

/// Whether this CPU runs the AVX2/FMA kernels.
bool cpu_has_avx2();
void fused_forward_avx2(const torch::Tensor& X, Activation act, const ActivationParams& p, torch::Tensor& Y,
                        torch::Tensor& H);
void fused_backward_avx2(const torch::Tensor& gY, const torch::Tensor& H, torch::Tensor& gX);

}  // namespace regula::regularizers::taylor::detail
