#pragma once
/// \file A register-blocked AVX-512 matrix product for the engines' skinny products (internal;
/// dispatched by core/matmul.cpp, compiled with -mavx512f, called only when the CPU has it).
#include <cstdint>

namespace regula::core {

/// C = A B for A [m, k] read as A(i, l) = a[i * a_row + l * a_col] (a row-major or a transposed
/// matrix alike), B [k, n] row-major with leading dimension ldb, C [m, n] row-major (ldc),
/// overwritten, or with `accumulate` C += A B.  One thread; the caller splits rows across threads.
void gemm_avx512(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
                 int64_t ldb, float* c, int64_t ldc, bool accumulate = false);
void gemm_avx512(int64_t m, int64_t n, int64_t k, const double* a, int64_t a_row, int64_t a_col, const double* b,
                 int64_t ldb, double* c, int64_t ldc, bool accumulate = false);

}  // namespace regula::core
