// AVX2/FMA build of the coordinate-descent kernels (lasso_kernels.h); compiled with -mavx2 -mfma
// and called by lasso_cd.cpp only when the CPU has both (core::cpu_has_avx2_fma).
#include "trainers/sparse/lasso_kernels.h"

namespace regula::sparse::detail {

double lasso_dot_avx2(const double* a, const double* b, int64_t n) { return lasso_dot(a, b, n); }
void lasso_axpy_avx2(double alpha, const double* x, double* y, int64_t n) { lasso_axpy(alpha, x, y, n); }

}  // namespace regula::sparse::detail
