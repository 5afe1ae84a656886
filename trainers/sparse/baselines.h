#pragma once
/// \file Baselines for sparse recovery on the same data: minimum-norm least
/// squares and the Lasso (coordinate descent on a path of \lambda, picked on validation).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/options.h"
#include "trainers/sparse/problem.h"

namespace regula::sparse {

/// \hat w = X^+ y: the least-squares solution of least Euclidean norm
/// (interpolates y when n <= d and X has full row rank).
torch::Tensor min_norm_least_squares(const torch::Tensor& X, const torch::Tensor& y);

/// Options of the Lasso baseline
/// \min_w (1/n)||X w - y||_2^2 + \lambda ||w||_1  (optionally with w >= 0).
struct LassoOptions {
  /// Number of \lambda values, log-spaced from \lambda_max down to min_ratio \lambda_max.
  REGULA_ARG(int64_t, lambdas) = 30;
  /// \lambda_min / \lambda_max.
  REGULA_ARG(double, min_ratio) = 1e-3;
  /// Stop each solve at a relative duality gap (P(w) - D(\theta)) / P(w) <= tolerance, with
  /// P the primal objective and \theta the rescaled residual (trainers/sparse/lasso_cd.h).
  /// Stricter than scikit-learn's `tol`, which compares the gap with ||y||^2 / n >= P(w).
  REGULA_ARG(double, tolerance) = 1e-6;
  /// Safeguard: at most this many coordinate-descent epochs (passes over the working set)
  /// per \lambda; a solve stopped by it reports a gap above `tolerance`.
  REGULA_ARG(int64_t, max_epochs) = 10000;
  /// Constrain w >= 0 (the baseline for a nonnegative parametrization, e.g. w = u^N for images).
  REGULA_ARG(bool, nonnegative) = false;
};

/// \lambda_max = ||2 X^T y / n||_\infty (w >= 0: max_j (2 X^T y / n)_j), the smallest
/// \lambda whose solution is w = 0, floored at 1e-12.
double lasso_lambda_max(const torch::Tensor& X, const torch::Tensor& y, bool nonnegative);

/// The path of `options.lambdas()` values, log-spaced from \lambda_max to min_ratio \lambda_max ([L], float64).
torch::Tensor lasso_lambdas(const torch::Tensor& X, const torch::Tensor& y, const LassoOptions& options);

/// Lasso solutions along a path of \lambda.
struct LassoPath {
  torch::Tensor w;              ///< [L, d], X's device and dtype
  std::vector<double> gap;      ///< relative duality gap reached per \lambda
  std::vector<int64_t> epochs;  ///< coordinate-descent epochs per \lambda
};

/// Solves the Lasso for each \lambda of `lambdas` in order, each warm-started from the
/// previous solution (give them decreasing), by coordinate descent on the CPU in float64
/// (X of any device and floating dtype is copied there once) to `options.tolerance()`.
LassoPath lasso_path(const torch::Tensor& X, const torch::Tensor& y, const torch::Tensor& lambdas,
                     const LassoOptions& options = {});

/// The chosen Lasso solution.
struct LassoResult {
  torch::Tensor w;          ///< [d]
  double lambda = 0;        ///< chosen \lambda
  std::string selected_by;  ///< "validation", "oracle" (no validation data, w^* known) or "fixed" (\lambda_max/100)
  double gap = 0;           ///< relative duality gap reached at the chosen \lambda
  bool converged = true;    ///< gap <= tolerance (false: max_epochs stopped the solve first)
};

/// Lasso with \lambda chosen by validation loss on the problem's held-out rows.
LassoResult lasso_validated(const SparseProblem& problem, const LassoOptions& options = {});

}  // namespace regula::sparse
