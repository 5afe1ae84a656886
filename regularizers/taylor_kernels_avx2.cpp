// The fused Taylor-activation kernels for AVX2/FMA (compiled with -mavx2 -mfma; taylor_series.cpp
// calls them only when the CPU has both).
#define REGULA_TAYLOR_ISA avx2
#include "regularizers/taylor_kernels_impl.h"
