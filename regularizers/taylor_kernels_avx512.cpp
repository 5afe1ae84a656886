// The fused Taylor-activation kernels for AVX-512 (compiled with -mavx512f/bw/vl/dq -mfma;
// taylor_series.cpp calls them only when the CPU has all of these).
#define REGULA_TAYLOR_ISA avx512
#include "regularizers/taylor_kernels_impl.h"
