#pragma once
/// \file Oracle early-stopping windows on a logged trajectory (host vectors,
/// one value per logged step), as users of the depth-N papers cite them:
///
/// * coordinate window: starts at the first logged step where every support
///   coordinate is within `tol` (default 0.1) of its target,
///   \max_{i \in S} |w_i - w^*_i| \le tol, and ends at the first logged step
///   where the largest off-support coordinate \max_{i \notin S} |w_i| exceeds
///   `threshold` (default w_0^{1/4}); empty when it never starts before it ends;
/// * error window: the contiguous run of logged steps around the best one whose
///   error ||w_t - w^*||^2 is within `factor` (default \sqrt 2) of the best;
///   empty when the initial iterate already lies within `factor` of the best
///   (nothing was learned beyond the tolerance; e.g. a run still on its plateau).
/// A window is *censored* when the run ended inside it: its end is a lower bound
/// (tables print it as `4000+`, CSVs carry a `*_censored` column).
/// Over replicates, the error window is that of the median curve.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace regula::sparse {

/// [start, end] in steps; start = -1 when empty.  `censored`: the end was not
/// reached within the run (end = last logged step).
struct Window {
  int64_t start = -1;
  int64_t end = -1;
  bool censored = false;
  bool empty() const { return start < 0; }
  /// end - start, 0 when empty.
  int64_t width() const { return empty() ? 0 : end - start; }
};

/// The coordinate window (see the file comment).
Window coordinate_window(const std::vector<int64_t>& steps, const std::vector<double>& support_dev,
                         const std::vector<double>& off_max, double tol, double threshold);

/// The error window around the minimum of `errors` (see the file comment).
Window error_window(const std::vector<int64_t>& steps, const std::vector<double>& errors, double factor);

/// Index of the smallest finite value (-1 when none).
int64_t argmin_finite(const std::vector<double>& values);

/// Pointwise q-quantile (linear interpolation) of equally long curves;
/// q = 0.5 is the median curve.
std::vector<double> quantile_curve(const std::vector<std::vector<double>>& curves, double q);

/// q-quantile of values (NaNs ignored; NaN when none).
double quantile(std::vector<double> values, double q);

/// The median window of several runs' windows: median start and end over the runs whose
/// window is not empty (an open end counts as `last_step`); empty when most are empty,
/// censored when most are censored.
Window median_window(const std::vector<Window>& windows, int64_t last_step);

/// "[start, end]", "[start, end+]" when censored, "-" when empty.
std::string format_window(const Window& w);

/// PSNR in dB of an estimate of an image with values in [0, 1]: 10 log10(1 / MSE).
double psnr(const torch::Tensor& w, const torch::Tensor& w_star);

}  // namespace regula::sparse
