#pragma once
/// \file Data losses of the minibatch trainer: mean squared error and the
/// trimmed squared loss (least trimmed squares) for outlier-robust training.
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "core/options.h"

namespace regula::trainers {

/// Options of the data loss.
struct LossOptions {
  /// `mse`: \frac{1}{n}\sum_i \|f(x_i) - y_i\|^2 / p (torch's mean over all entries).
  /// `trimmed`: \frac{1}{h}\sum_{i \le h} e_{(i)} with e_i = \frac{1}{p}\|f(x_i) - y_i\|^2 sorted
  /// ascending, i.e. the mean of the h smallest squared residuals; the largest n - h
  /// (presumed outliers) get no gradient.
  REGULA_ARG(std::string, kind) = "mse";
  /// trimmed: h = max(1, round(keep \cdot n)) of each batch of n rows are kept.
  REGULA_ARG(double, keep) = 0.9;
};

/// The kinds LossOptions::kind accepts.
const std::vector<std::string>& loss_kinds();

/// Number of rows the trimmed loss keeps of a batch of `n`.
int64_t trimmed_count(int64_t n, double keep);

/// The data loss of predictions [n, p] against targets [n, p]: a 0-dim
/// tensor on their device (no host sync).  Invalid options are ConfigErrors.
torch::Tensor data_loss(const torch::Tensor& pred, const torch::Tensor& target, const LossOptions& options);

}  // namespace regula::trainers
