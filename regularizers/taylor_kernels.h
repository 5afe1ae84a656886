#pragma once
/// \file AVX2/FMA and AVX-512 instances of the fused Taylor-activation kernels (internal; layout and
/// math in taylor_fused.h): contiguous float or double stacks [1 + K S, E], K < 16.
#include <cstdint>

#include "regularizers/taylor_series.h"

namespace regula::regularizers::taylor::detail {

// Raw buffers only: no LibTorch inline code is instantiated in the files built for an ISA, so
// the linker can never pick an AVX-512 copy of a shared inline function for other callers.
// Forward: X, Y, H [1 + K S, E]; backward: gY, H -> gX; derivatives: sigma, sigma', sigma'' of
// U [rows, width] + bias (null = none) into A, S1, S2.
#define REGULA_TAYLOR_ENTRY_POINTS(ISA, F)                                                                         \
  void fused_forward_##ISA(const F* X, F* Y, F* H, int K, int64_t S, int64_t E, Activation act,                  \
                           const ActivationParams& p);                                                            \
  void fused_backward_##ISA(const F* gY, const F* H, F* gX, int K, int64_t S, int64_t E);                       \
  void fused_derivatives_##ISA(const F* U, const F* bias, F* A, F* S1, F* S2, int64_t rows, int64_t width,        \
                               Activation act, const ActivationParams& p);
REGULA_TAYLOR_ENTRY_POINTS(avx2, float)
REGULA_TAYLOR_ENTRY_POINTS(avx2, double)
REGULA_TAYLOR_ENTRY_POINTS(avx512, float)
REGULA_TAYLOR_ENTRY_POINTS(avx512, double)
#undef REGULA_TAYLOR_ENTRY_POINTS

/// The fused kernels on raw buffers, with the widest instruction set the CPU has (AVX-512,
/// AVX2/FMA, or the scalar instance); F is float or double.
template <class F>
void fused_forward(const F* X, F* Y, F* H, int K, int64_t S, int64_t E, Activation act, const ActivationParams& p);
template <class F>
void fused_backward(const F* gY, const F* H, F* gX, int K, int64_t S, int64_t E);
template <class F>
void fused_derivatives(const F* U, const F* bias, F* A, F* S1, F* S2, int64_t rows, int64_t width, Activation act,
                       const ActivationParams& p);

/// Whether the AVX-512 instances run: the CPU has what they need (F, BW, VL, DQ and FMA) and
/// set_avx512_kernels(false) has not turned them off (the tests run both instruction sets).
bool cpu_has_avx512_kernels();
void set_avx512_kernels(bool enabled);

}  // namespace regula::regularizers::taylor::detail
