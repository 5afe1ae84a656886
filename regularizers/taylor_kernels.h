#pragma once
/// \file AVX2/FMA and AVX-512 instances of the fused Taylor-activation kernels (internal; layout and
/// math in taylor_fused.h): contiguous float or double stacks [1 + K S, E], K < 16.
#include <torch/types.h>

#include "regularizers/taylor_series.h"

namespace regula::regularizers::taylor::detail {

void fused_forward_avx2(const torch::Tensor& X, int K, int64_t S, Activation act, const ActivationParams& p,
                        torch::Tensor& Y, torch::Tensor& H);
/// sigma, sigma', sigma'' of U [rows, width] + bias (undefined = none) into A, S1, S2 (same shape).
void fused_derivatives_avx2(const torch::Tensor& U, const torch::Tensor& bias, Activation act,
                            const ActivationParams& p, torch::Tensor& A, torch::Tensor& S1, torch::Tensor& S2);
void fused_backward_avx2(const torch::Tensor& gY, const torch::Tensor& H, int K, int64_t S, torch::Tensor& gX);

void fused_forward_avx512(const torch::Tensor& X, int K, int64_t S, Activation act, const ActivationParams& p,
                        torch::Tensor& Y, torch::Tensor& H);
/// sigma, sigma', sigma'' of U [rows, width] + bias (undefined = none) into A, S1, S2 (same shape).
void fused_derivatives_avx512(const torch::Tensor& U, const torch::Tensor& bias, Activation act,
                            const ActivationParams& p, torch::Tensor& A, torch::Tensor& S1, torch::Tensor& S2);
void fused_backward_avx512(const torch::Tensor& gY, const torch::Tensor& H, int K, int64_t S, torch::Tensor& gX);

/// Whether the AVX-512 instances run: the CPU has what they need (F, BW, VL, DQ and FMA) and
/// set_avx512_kernels(false) has not turned them off (the tests run both instruction sets).
bool cpu_has_avx512_kernels();
void set_avx512_kernels(bool enabled);

}  // namespace regula::regularizers::taylor::detail
