#pragma once
/// \file Baselines for sparse recovery on the same data: minimum-norm least
/// squares and the Lasso (FISTA on a path of \lambda, picked on validation).
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "core/options.h"
#include "trainers/sparse/problem.h"

namespace regula::sparse {

/// \hat w = X^+ y: the least-squares solution of least Euclidean norm
/// (interpolates y when n <= d and X has full row rank).
torch::Tensor min_norm_least_squares(const torch::Tensor& X, const torch::Tensor& y);

/// Options of the Lasso baseline
/// \min_w (1/n)||X w - y||_2^2 + \lambda ||w||_1.
struct LassoOptions {
  /// Number of \lambda values, log-spaced from \lambda_max = ||2 X^T y / n||_\infty down.
  REGULA_ARG(int64_t, lambdas) = 30;
  /// \lambda_min / \lambda_max.
  REGULA_ARG(double, min_ratio) = 1e-3;
  /// FISTA iterations (all \lambda advance together as one batch).
  REGULA_ARG(int64_t, iterations) = 1000;
  /// Constrain w >= 0 (the baseline for a nonnegative parametrization, e.g. w = u^N for images).
  REGULA_ARG(bool, nonnegative) = false;
};

/// FISTA for every \lambda at once: returns [L, d].  Step 1/Lip with
/// Lip = 2 \sigma_max(X)^2 / n (power iteration).  `nonnegative`: the proximal step of
/// \lambda ||w||_1 + [w >= 0], i.e. max(a - \lambda / Lip, 0) instead of soft-thresholding.
torch::Tensor lasso_path(const torch::Tensor& X, const torch::Tensor& y, const torch::Tensor& lambdas,
                         int64_t iterations, bool nonnegative = false);

/// The chosen Lasso solution.
struct LassoResult {
  torch::Tensor w;          ///< [d]
  double lambda = 0;        ///< chosen \lambda
  std::string selected_by;  ///< "validation", "oracle" (no validation data, w^* known) or "fixed" (\lambda_max/100)
};

/// Lasso with \lambda chosen by validation loss on the problem's held-out rows.
LassoResult lasso_validated(const SparseProblem& problem, const LassoOptions& options = {});

}  // namespace regula::sparse
