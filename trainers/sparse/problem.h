#pragma once
/// \file Sparse-regression problems y = X w^* + \sigma \xi: the synthetic
/// generator of the published experiments, measurements of a given signal
/// (e.g. an image), and users' own X, y (and optional w^*) from CSV or .npy.
/// Data are generated on the CPU in float64 from their own seeded generator
/// (independent of the global RNG), then moved with `SparseProblem::to`.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/options.h"

namespace regula::sparse {

/// One regression problem: training and (optional) validation measurements.
struct SparseProblem {
  torch::Tensor X;       ///< [n, d] training design
  torch::Tensor y;       ///< [n] training responses
  torch::Tensor X_val;   ///< [n_val, d] held-out design (n_val may be 0)
  torch::Tensor y_val;   ///< [n_val] held-out responses
  torch::Tensor w_star;  ///< [d] ground truth, undefined when unknown
  std::vector<int64_t> image_shape;  ///< e.g. {28, 28} when w^* is an image

  int64_t n() const { return X.size(0); }
  int64_t d() const { return X.size(1); }
  int64_t n_val() const { return X_val.defined() ? X_val.size(0) : 0; }
  bool has_truth() const { return w_star.defined(); }
  /// Indices i with w^*_i != 0 (empty without ground truth).
  torch::Tensor support() const;
  /// A copy on `device` in `dtype`.
  SparseProblem to(torch::Device device, torch::ScalarType dtype) const;
};

/// The random design of the measurements.
struct DesignOptions {
  /// "rademacher": entries +1 with probability p_plus, else -1; "gaussian": standard normal.
  REGULA_ARG(std::string, kind) = "rademacher";
  /// P(X_ij = +1) of the rademacher design (0.5: centred; the MNIST experiment of the
  /// depth-N paper uses the non-centred 0.25).
  REGULA_ARG(double, p_plus) = 0.5;
};

/// Options of the synthetic generator: w^* has `k` nonzero coordinates (the
/// first k) with `support_values` (cycled to length k), X has i.i.d.
/// Rademacher (+-1, P(+1) = p_plus) or standard Gaussian entries, \xi is standard Gaussian.
struct SyntheticOptions {
  SyntheticOptions(int64_t n, int64_t d, int64_t k) : n_(n), d_(d), k_(k) {}
  /// Training measurements.
  REGULA_ARG(int64_t, n);
  /// Dimension.
  REGULA_ARG(int64_t, d);
  /// Sparsity.
  REGULA_ARG(int64_t, k);
  /// Values on the support, cycled to length k (default all 1).
  REGULA_ARG(std::vector<double>, support_values) = {1.0};
  /// Noise standard deviation \sigma.
  REGULA_ARG(double, sigma) = 0.5;
  /// The design of X.
  REGULA_ARG(DesignOptions, design) = {};
  /// Extra held-out validation measurements from the same model.
  REGULA_ARG(int64_t, n_val) = 0;
  /// Seed of this problem's generator.
  REGULA_ARG(uint64_t, seed) = 0;
};

/// The published synthetic problem.
SparseProblem make_synthetic(const SyntheticOptions& options);

/// Random measurements y = X w^* + \sigma \xi of a given signal (n training +
/// n_val validation rows).
SparseProblem measure_signal(const torch::Tensor& w_star, int64_t n, int64_t n_val, double sigma,
                             const DesignOptions& design, uint64_t seed);

/// Reads X ([n, d]), y ([n] or [n, 1]) and optional w^* ([d]) from CSV or
/// .npy files (empty path: absent) and holds out a random `val_fraction` of
/// the rows (seeded) for validation.  Shape mismatches are DataErrors.
SparseProblem load_problem(const std::filesystem::path& x_path, const std::filesystem::path& y_path,
                           const std::filesystem::path& w_star_path, double val_fraction, uint64_t seed);

}  // namespace regula::sparse
