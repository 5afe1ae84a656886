// AVX2/FMA build of the one-pass GD products (design_kernels.h); this file is compiled with
// -mavx2 -mfma and gd_kernels.cpp calls it only when the CPU has both (core::cpu_has_avx2_fma).
#include "trainers/sparse/design_kernels.h"

namespace regula::sparse::detail {

#define REGULA_DESIGN_PRODUCTS_AVX2(T, F)                                                                    \
  void design_products_rows_avx2(const T* X, int64_t n, int64_t d, const F* W, int64_t C, const F* y, F* R, \
                                 F* G, int64_t row_begin, int64_t row_end) {                                \
    design_products_rows(X, n, d, W, C, y, R, G, row_begin, row_end);                                       \
  }
REGULA_DESIGN_PRODUCTS_AVX2(int8_t, float)
REGULA_DESIGN_PRODUCTS_AVX2(int8_t, double)
REGULA_DESIGN_PRODUCTS_AVX2(float, float)
REGULA_DESIGN_PRODUCTS_AVX2(double, double)
#undef REGULA_DESIGN_PRODUCTS_AVX2

}  // namespace regula::sparse::detail
