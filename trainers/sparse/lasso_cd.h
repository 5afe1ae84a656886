#pragma once
/// \file The Lasso solver behind `lasso_path`: cyclic coordinate descent on the
/// CPU in float64 (as scikit-learn, glmnet and celer do it), with working sets
/// ranked by dual constraint violation (celer), gap-safe screening, Anderson
/// extrapolation of the iterates and a duality-gap stopping rule.
///
/// In the scaling used inside, F(w) = 1/2 ||y - X w||^2 + a ||w||_1 with
/// a = n \lambda / 2 (n/2 times the baseline's objective, so the same minimiser
/// and the same relative gap).  Its dual is
///   D(\theta) = y^T \theta - 1/2 ||\theta||^2  s.t.  ||X^T \theta||_\infty <= a
/// (w >= 0: max_j (X^T \theta)_j <= a, only positive correlations count), and the
/// dual point is the residual r = y - X w rescaled into the constraint set:
/// \theta = r min(1, a / ||X^T r||_\infty).
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace regula::sparse {

/// X [n, d] held by columns (X^T contiguous, float64 on the CPU) with its
/// column norms: what every coordinate update reads.
struct ColumnDesign {
  explicit ColumnDesign(const torch::Tensor& X);
  int64_t n = 0, d = 0;
  torch::Tensor columns;          ///< [d, n]: column j of X is row j
  const double* data = nullptr;   ///< columns' values
  std::vector<double> norm2, norm;  ///< ||X_j||^2 and ||X_j||
  const double* column(int64_t j) const { return data + j * n; }
};

/// What one solve reached.
struct LassoSolveStats {
  double gap = 0;      ///< relative duality gap (F(w) - D(\theta)) / F(w) on the full problem
  int64_t epochs = 0;  ///< coordinate-descent passes over the working set
};

/// Solves \min_w (1/n)||X w - y||^2 + \lambda ||w||_1 (and w >= 0 when `nonnegative`)
/// from the warm start `w` (length d) with `r` = y - X w (length n) kept up to date;
/// both hold the solution on return.  Stops when the relative duality gap is
/// <= `tolerance` or after `max_epochs` epochs (then the gap returned is above it).
LassoSolveStats lasso_coordinate_descent(const ColumnDesign& X, const std::vector<double>& y, double lambda,
                                         bool nonnegative, double tolerance, int64_t max_epochs,
                                         std::vector<double>& w, std::vector<double>& r);

}  // namespace regula::sparse
