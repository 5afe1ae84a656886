#include "trainers/sparse/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace regula::sparse {

Window coordinate_window(const std::vector<int64_t>& steps, const std::vector<double>& support_dev,
                         const std::vector<double>& off_max, double tol, double threshold) {
  Window w;
  int64_t end_index = -1;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (off_max[i] > threshold || !std::isfinite(off_max[i])) {
      end_index = static_cast<int64_t>(i);
      break;
    }
  }
  const std::size_t limit = end_index < 0 ? steps.size() : static_cast<std::size_t>(end_index);
  for (std::size_t i = 0; i < limit; ++i) {
    if (support_dev[i] <= tol) {
      w.start = steps[i];
      break;
    }
  }
  if (w.start < 0) return w;
  if (end_index < 0) {
    w.end = steps.back();
    w.censored = true;
  } else {
    w.end = steps[static_cast<std::size_t>(end_index)];
  }
  return w;
}

int64_t argmin_finite(const std::vector<double>& values) {
  int64_t best = -1;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i]) && (best < 0 || values[i] < values[static_cast<std::size_t>(best)])) {
      best = static_cast<int64_t>(i);
    }
  }
  return best;
}

Window error_window(const std::vector<int64_t>& steps, const std::vector<double>& errors, double factor) {
  Window w;
  const int64_t b = argmin_finite(errors);
  if (b < 0) return w;
  const double limit = errors[static_cast<std::size_t>(b)] * factor;
  auto inside = [&](int64_t i) { return std::isfinite(errors[static_cast<std::size_t>(i)]) && errors[static_cast<std::size_t>(i)] <= limit; };
  int64_t lo = b, hi = b;
  while (lo > 0 && inside(lo - 1)) --lo;
  while (hi + 1 < static_cast<int64_t>(errors.size()) && inside(hi + 1)) ++hi;
  if (lo == 0) return w;  // the initial iterate is as good: nothing learned, empty
  w.start = steps[static_cast<std::size_t>(lo)];
  w.end = steps[static_cast<std::size_t>(hi)];
  w.censored = hi + 1 == static_cast<int64_t>(errors.size());
  return w;
}

double quantile(std::vector<double> values, double q) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

std::vector<double> quantile_curve(const std::vector<std::vector<double>>& curves, double q) {
  if (curves.empty()) return {};
  std::vector<double> out(curves.front().size());
  std::vector<double> column(curves.size());
  for (std::size_t t = 0; t < out.size(); ++t) {
    for (std::size_t r = 0; r < curves.size(); ++r) column[r] = curves[r][t];
    out[t] = quantile(column, q);
  }
  return out;
}

Window median_window(const std::vector<Window>& ws, int64_t last_step) {
  std::vector<double> starts, ends;
  std::size_t empty = 0, censored = 0;
  for (const auto& w : ws) {
    starts.push_back(w.empty() ? NAN : double(w.start));
    ends.push_back(w.empty() ? NAN : double(w.end));
    empty += w.empty();
    censored += w.censored;
  }
  Window m;
  if (ws.empty() || 2 * empty > ws.size()) return m;
  const double s = quantile(starts, 0.5), e = quantile(ends, 0.5);
  m.start = static_cast<int64_t>(s);
  m.end = std::isnan(e) ? last_step : static_cast<int64_t>(e);
  m.censored = 2 * censored > ws.size();
  return m;
}

std::string format_window(const Window& w) {
  if (w.empty()) return "-";
  return fmt::format("[{}, {}{}]", w.start, w.end, w.censored ? "+" : "");
}

double psnr(const torch::Tensor& w, const torch::Tensor& w_star) {
  const double mse = (w - w_star).square().mean().item<double>();
  return 10.0 * std::log10(1.0 / std::max(mse, 1e-30));
}

}  // namespace regula::sparse
