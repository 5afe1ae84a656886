#pragma once
/// \file Fused CPU kernels of the diagonal-network GD step (trainers/sparse/gd.h).
///
/// A step is g = X^T (X w - y), then elementwise u <- u - s g u^{N-1}, v <- v + s g v^{N-1}
/// (s = 2 \eta N / n) and w = u^N - v^N for the next step.  As tensor ops that is two
/// matrix-vector products, each reading all of X, and about a dozen elementwise kernels with
/// their temporaries.  For the small problems of a sweep these cost as much as the products;
/// on the CPU fused_descent does the elementwise half in one pass, with integer powers by
/// multiplication.  With few parameter sets per problem the two products are matrix-vector
/// products bound by reading X; design_products does both in one pass over X, four rows at a
/// time, and on an int8 copy of X when that is exact (the +-1 designs): one byte per entry
/// instead of eight, so one problem's step is bound by arithmetic, not by memory.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace regula::sparse {

/// For CPU tensors u, v, w, g [P, C, d] (contiguous, one dtype) and step scales s [P, C, 1]:
/// u <- u - s g u^{N_c - 1}, v <- v + s g v^{N_c - 1} (v undefined: the positive model
/// w = u^N), then w <- u^{N_c} - v^{N_c} of the updated state.  `depths` holds N_c >= 1 for
/// each of the C configurations.  The same update as gd_step, given the same g.
void fused_descent(torch::Tensor& u, torch::Tensor& v, torch::Tensor& w, const torch::Tensor& g,
                   const torch::Tensor& scale, const std::vector<int64_t>& depths);

/// X as int8 when that is exact (every entry an integer in [-127, 127], as in the +-1 designs of
/// the published experiments), else an undefined tensor.  CPU tensors only (one pass over X).
torch::Tensor exact_int8(const torch::Tensor& X);

/// The products of a GD step on the CPU in one pass over X (design_kernels.h), for a design
/// X [P, n, d] of int8 (exact_int8) or of W's dtype, W [P, C, d] and y [P, 1, n] contiguous
/// float or double: R = W X^T - y [P, C, n] and, when G is given, G = R X [P, C, d], into the
/// given buffers.  Equal to the BLAS products up to summation order.  Meant for few parameter
/// sets per problem (C <= kMaxOnePassConfigs, batched_gd.h), where the products are matrix-vector products
/// bound by reading X: one pass instead of two, and one byte per entry for int8.
void design_products(const torch::Tensor& X, const torch::Tensor& W, const torch::Tensor& y, torch::Tensor& R,
                     torch::Tensor* G = nullptr);

}  // namespace regula::sparse
