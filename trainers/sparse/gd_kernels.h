#pragma once
/// \file Fused CPU kernels of the diagonal-network GD step (trainers/sparse/gd.h).
///
/// A step is g = X^T (X w - y), then elementwise u <- u - s g u^{N-1}, v <- v + s g v^{N-1}
/// (s = 2 \eta N / n) and w = u^N - v^N for the next step.  As tensor ops that is two
/// matrix-vector products, each reading all of X, and about a dozen elementwise kernels with
/// their temporaries.  For the small problems of a sweep these cost as much as the products;
/// on the CPU fused_descent does the elementwise half in one pass, with integer powers by
/// multiplication.  (A one-pass X^T (X w - y) for a single large problem was tried and
/// measured no faster than MKL's two matrix-vector products, so gd_step keeps those.)
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

}  // namespace regula::sparse
