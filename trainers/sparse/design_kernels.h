#pragma once
/// \file The products of a GD step, R = W X^T - y and G = R X, in one pass over X (internal;
/// see gd_kernels.h).  Plain loops on raw buffers, no LibTorch: this header is compiled twice,
/// as is (gd_kernels.cpp) and with -mavx2 -mfma (gd_kernels_avx2.cpp), and everything in it
/// has internal linkage so the two builds never stand in for each other at link time.
///
/// Layout: X [n, d] row-major of T (int8_t for the exact +-1 designs, else F); W [C, d], y [n],
/// R [C, n], G [C, d] of F (float or double).  X is walked once, four rows at a time: their dot
/// products with W give four residuals, and the same four rows, still in L1/L2, are added into
/// G.  So a step reads X once instead of twice (as two BLAS matrix-vector products do), and
/// each element of W and G loaded serves four rows.
#include <cstdint>

namespace regula::sparse::detail {
namespace {

constexpr int64_t kRowBlock = 4;

/// Rows [row_begin, row_end) of X: R[c, i] = X_i . W_c - y_i, and G_c += R[c, i] X_i when G is
/// given (accumulated into, not cleared).
template <class T, class F>
void design_products_rows(const T* X, int64_t n, int64_t d, const F* W, int64_t C, const F* y, F* R, F* G,
                          int64_t row_begin, int64_t row_end) {
  int64_t i = row_begin;
  for (; i + kRowBlock <= row_end; i += kRowBlock) {
    const T *x0 = X + i * d, *x1 = x0 + d, *x2 = x1 + d, *x3 = x2 + d;
    for (int64_t c = 0; c < C; ++c) {
      const F* w = W + c * d;
      F a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
      for (int64_t j = 0; j < d; ++j) {
        const F wj = w[j];
        a0 += F(x0[j]) * wj;
        a1 += F(x1[j]) * wj;
        a2 += F(x2[j]) * wj;
        a3 += F(x3[j]) * wj;
      }
      F* r = R + c * n + i;
      const F r0 = r[0] = a0 - y[i], r1 = r[1] = a1 - y[i + 1], r2 = r[2] = a2 - y[i + 2],
              r3 = r[3] = a3 - y[i + 3];
      if (!G) continue;
      F* g = G + c * d;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) g[j] += r0 * F(x0[j]) + r1 * F(x1[j]) + r2 * F(x2[j]) + r3 * F(x3[j]);
    }
  }
  for (; i < row_end; ++i) {
    const T* x = X + i * d;
    for (int64_t c = 0; c < C; ++c) {
      const F* w = W + c * d;
      F a = 0;
#pragma omp simd reduction(+ : a)
      for (int64_t j = 0; j < d; ++j) a += F(x[j]) * w[j];
      const F r = R[c * n + i] = a - y[i];
      if (!G) continue;
      F* g = G + c * d;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) g[j] += r * F(x[j]);
    }
  }
}

}  // namespace
}  // namespace regula::sparse::detail
