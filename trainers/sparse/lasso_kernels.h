#pragma once
/// \file The two vector kernels of every coordinate-descent update (internal; lasso_cd.cpp).
/// Compiled twice like design_kernels.h: as is (lasso_cd.cpp) and with -mavx2 -mfma
/// (lasso_kernels_avx2.cpp), internal linkage so the builds never stand in for each other.
#include <cstdint>

namespace regula::sparse::detail {
namespace {

/// a . b with eight independent sums (vectorises without -ffast-math).
double lasso_dot(const double* a, const double* b, int64_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  }
  double t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; ++i) t += a[i] * b[i];
  return t;
}

/// y += alpha x.
void lasso_axpy(double alpha, const double* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace
}  // namespace regula::sparse::detail
