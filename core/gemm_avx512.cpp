// The engines' matrix products with AVX-512 (compiled with -mavx512f; core/matmul.cpp calls it
// only when the CPU has it).  The products are skinny (1024 x 100 times 100 x 100, or the weight
// gradient 100 x 1024 times 1024 x 100), too small for a BLAS's packing to pay off and, on AMD
// CPUs, faster than the AVX2 path MKL takes there.  No packing: each MR x (NV vectors) tile of C
// lives in registers while it runs over all of k, broadcasting A's entries (rows or columns of a
// row-major matrix alike) against vectors of B's row; B's column slab stays in L1/L2 across the
// row tiles, and the last vector of a tile is masked, so any n works.  On the AMD EPYC (Zen 5)
// machine, one thread: 205 GFLOP/s in float32 and 108 in float64 on 1024 x 100 x 100, in every
// layout, against 85 and 45 for torch::mm (MKL's AVX2 path).
#include "core/gemm_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

namespace regula::core {

namespace {

template <class T>
struct Vec;

template <>
struct Vec<float> {
  using R = __m512;
  using Mask = __mmask16;
  static constexpr int kWidth = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R load(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static R broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(Mask m, float* p, R v) { _mm512_mask_storeu_ps(p, m, v); }
  static Mask mask(int lanes) { return static_cast<Mask>((1u << lanes) - 1u); }
};

template <>
struct Vec<double> {
  using R = __m512d;
  using Mask = __mmask8;
  static constexpr int kWidth = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R load(Mask m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
  static R broadcast(const double* p) { return _mm512_set1_pd(*p); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static void store(Mask m, double* p, R v) { _mm512_mask_storeu_pd(p, m, v); }
  static Mask mask(int lanes) { return static_cast<Mask>((1u << lanes) - 1u); }
};

// Tiles of C: MR rows x NV vectors with NV = 1..4 and MR = min(12, 24 / NV), so that a full tile
// keeps 24 accumulators of the 32 vector registers and each step of k issues NV loads and MR
// broadcasts for 24 fused multiply-adds.  A row of C is covered by slabs of 3 and 4 vectors
// (slabs(), below): a narrow slab would do as many broadcasts for a third of the work.
constexpr int rows_for(int nv) { return 24 / nv < 12 ? 24 / nv : 12; }

// k is taken in blocks of kDepth rows, so that a block of B's column slab (kDepth x 4 vectors at
// most: 128 KiB for float and double alike) stays in L2 across the row tiles.
constexpr int64_t kDepth = 512;

// C[0:MR, 0:NV vectors] (+)= A[0:MR, :] B[:, 0:NV vectors], the last vector masked with `last`;
// `add` accumulates onto C (the second and later blocks of k).
template <class T, int MR, int NV>
void tile(int64_t k, const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t ldb, T* c, int64_t ldc,
          typename Vec<T>::Mask last, bool add) {
  using V = Vec<T>;
  const typename V::Mask full = V::mask(V::kWidth);
  typename V::R acc[MR][NV];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = add ? V::load(v + 1 == NV ? last : full, c + r * ldc + v * V::kWidth) : V::zero();
  }
  for (int64_t l = 0; l < k; ++l) {
    const T* brow = b + l * ldb;
    typename V::R bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = V::load(v + 1 == NV ? last : full, brow + v * V::kWidth);
    const T* al = a + l * a_col;
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const typename V::R ar = V::broadcast(al + r * a_row);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) V::store(v + 1 == NV ? last : full, c + r * ldc + v * V::kWidth, acc[r][v]);
  }
}

template <class T>
using TileFn = void (*)(int64_t, const T*, int64_t, int64_t, const T*, int64_t, T*, int64_t, typename Vec<T>::Mask,
                        bool);

// kTiles<T, NV>[rows]: the tile of `rows` rows (1..rows_for(NV)) and NV vectors.
template <class T, int NV, int... R>
constexpr std::array<TileFn<T>, sizeof...(R) + 1> tile_table(std::integer_sequence<int, R...>) {
  return {nullptr, &tile<T, R + 1, NV>...};
}
template <class T, int NV>
constexpr auto kTiles = tile_table<T, NV>(std::make_integer_sequence<int, rows_for(NV)>());

template <class T>
TileFn<T> tile_fn(int nv, int rows) {
  switch (nv) {
    case 1: return kTiles<T, 1>[rows];
    case 2: return kTiles<T, 2>[rows];
    case 3: return kTiles<T, 3>[rows];
    default: return kTiles<T, 4>[rows];
  }
}

// The width in vectors of the next slab when `vectors` are left: 3s and at most two 4s (1 and 2
// alone, 5 as 3 + 2), e.g. 7 = 4 + 3, 8 = 4 + 4, 13 = 4 + 3 + 3 + 3.
int next_slab(int64_t vectors) {
  if (vectors <= 2) return static_cast<int>(vectors);
  if (vectors == 5) return 3;
  return vectors % 3 != 0 ? 4 : 3;
}

template <class T>
void gemm_tiles(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t ldb,
                T* c, int64_t ldc, bool accumulate) {
  using V = Vec<T>;
  for (int64_t j = 0, left = (n + V::kWidth - 1) / V::kWidth; left > 0;) {
    const int nv = next_slab(left);
    left -= nv;
    const int64_t cols = std::min<int64_t>(nv * V::kWidth, n - j);
    const auto last = V::mask(static_cast<int>(cols - (nv - 1) * V::kWidth));
    const int rows_per_tile = rows_for(nv);
    for (int64_t l = 0; l < k; l += kDepth) {
      const int64_t depth = std::min(kDepth, k - l);
      for (int64_t i = 0; i < m; i += rows_per_tile) {
        const int rows = static_cast<int>(std::min<int64_t>(rows_per_tile, m - i));
        tile_fn<T>(nv, rows)(depth, a + i * a_row + l * a_col, a_row, a_col, b + l * ldb + j, ldb, c + i * ldc + j,
                             ldc, last, accumulate || l > 0);
      }
    }
    j += cols;
  }
}

}  // namespace

void gemm_avx512(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
                 int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  gemm_tiles(m, n, k, a, a_row, a_col, b, ldb, c, ldc, accumulate);
}

void gemm_avx512(int64_t m, int64_t n, int64_t k, const double* a, int64_t a_row, int64_t a_col, const double* b,
                 int64_t ldb, double* c, int64_t ldc, bool accumulate) {
  gemm_tiles(m, n, k, a, a_row, a_col, b, ldb, c, ldc, accumulate);
}

}  // namespace regula::core
