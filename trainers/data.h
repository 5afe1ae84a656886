#pragma once
/// \file Regression data for the minibatch trainer: built-in synthetic targets
/// (the 1-D and 2-D functions of the k-TV experiments) and CSV files with
/// chosen feature and target columns.  Everything is float64 on the CPU; the
/// trainer moves it to the model's device and dtype.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/options.h"

namespace regula::trainers {

/// A regression data set: inputs [n, d] and targets [n, p] for training,
/// validation (optional) and test (optional; for synthetic data the *clean*
/// target on a dense grid, so test metrics measure recovery of the truth).
struct Dataset {
  torch::Tensor train_x, train_y;
  torch::Tensor val_x, val_y;    ///< undefined when there is no validation set
  torch::Tensor test_x, test_y;  ///< undefined when there is no test set
  std::vector<std::string> feature_names, target_names;
  std::string description;       ///< one line for logs and summaries
  std::string target;            ///< the synthetic target's name (empty for CSV data)
  int64_t input_dim() const { return train_x.size(1); }
  int64_t output_dim() const { return train_y.size(1); }
  bool has_val() const { return val_x.defined() && val_x.size(0) > 0; }
  bool has_test() const { return test_x.defined() && test_x.size(0) > 0; }
};

/// Names of the built-in synthetic targets: 1-D `linear`, `quadratic`, `cubic`
/// on [-1/2, 1/2]; 2-D `checkered`, `volcano`, `stripe`, `plane` on [0, 2\pi]^2.
const std::vector<std::string>& synthetic_targets();
/// Input dimension of a built-in target (1 or 2); ConfigError for unknown names.
int64_t synthetic_input_dim(const std::string& target);
/// The noiseless target at x [n, d] (float64), returning [n, 1]:
///  linear x;  quadratic 4x^2;  cubic (64/7)(x+3/8)x(x-3/8);
///  checkered \sin 2x_1 \cos 2x_2;  stripe \sin 2(x_1+x_2);  plane x_1 - x_2;
///  volcano \exp(-(r-2)^2) with r = \|x - (\pi,\pi)\| (a ring-shaped crater rim).
torch::Tensor synthetic_target(const std::string& target, const torch::Tensor& x);

/// Options of a synthetic data set.
struct SyntheticOptions {
  explicit SyntheticOptions(std::string target = "cubic") : target_(std::move(target)) {}
  /// One of synthetic_targets().
  REGULA_ARG(std::string, target);
  /// 1-D: training points, x ~ U[-1/2, 1/2].
  REGULA_ARG(int64_t, n) = 100;
  /// 2-D: training points form a grid x grid lattice over [0, 2\pi]^2.
  REGULA_ARG(int64_t, grid) = 30;
  /// Standard deviation of the Gaussian noise added to training/validation targets.
  REGULA_ARG(double, noise) = 0.1;
  /// Fraction of training targets turned into outliers (exactly round(fraction n) of them).
  REGULA_ARG(double, outliers) = 0.0;
  /// An outlier is y + s u with u ~ U{-1, +1} \cdot U[1/2, 1]: far from the clean surface.
  REGULA_ARG(double, outlier_scale) = 5.0;
  /// Validation points: uniform in the domain, noisy like the training targets (no outliers).
  REGULA_ARG(int64_t, n_val) = 100;
  /// Test points (clean targets): 1-D a dense grid of this many points; 2-D a grid this many per axis.
  REGULA_ARG(int64_t, test_points) = 1000;
  /// Seed of the data (noise, inputs, outliers); independent of the global RNG.
  REGULA_ARG(uint64_t, seed) = 0;
};

/// Generates a synthetic data set.  Invalid options are ConfigErrors.
Dataset make_synthetic(const SyntheticOptions& options);

/// Indices of the outliers make_synthetic planted (for tests and plots): the
/// same draw, recomputed from the options.
torch::Tensor synthetic_outlier_mask(const SyntheticOptions& options);

/// Options of a CSV data set.
struct CsvDataOptions {
  explicit CsvDataOptions(std::filesystem::path path = {}) : path_(std::move(path)) {}
  REGULA_ARG(std::filesystem::path, path);
  /// Feature columns by name (or c0, c1, ... for files without a header); empty = all but the targets.
  REGULA_ARG(std::vector<std::string>, features);
  /// Target columns; empty = the last column.
  REGULA_ARG(std::vector<std::string>, targets);
  /// Fraction of rows held out for validation (0 <= f < 1).
  REGULA_ARG(double, val_fraction) = 0.2;
  /// Shuffle rows before the split (with `seed`); false keeps the last rows for validation.
  REGULA_ARG(bool, shuffle) = true;
  REGULA_ARG(uint64_t, seed) = 0;
};

/// Reads a CSV data set; unknown columns, too few rows etc. are DataErrors.
Dataset load_csv_dataset(const CsvDataOptions& options);

}  // namespace regula::trainers
