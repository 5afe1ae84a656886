#include "trainers/losses.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"

namespace regula::trainers {

const std::vector<std::string>& loss_kinds() {
  static const std::vector<std::string> kinds{"mse", "trimmed"};
  return kinds;
}

int64_t trimmed_count(int64_t n, double keep) {
  if (!(keep > 0 && keep <= 1)) {
    throw ConfigError(fmt::format("train.loss.keep = {} is not valid: the kept fraction h/n must be in (0, 1]", keep));
  }
  return std::clamp<int64_t>(std::llround(keep * static_cast<double>(n)), 1, n);
}

torch::Tensor data_loss(const torch::Tensor& pred, const torch::Tensor& target, const LossOptions& options) {
  if (!pred.sizes().equals(target.sizes())) {
    throw DataError(fmt::format("predictions of shape [{}] do not match targets of shape [{}]",
                                fmt::join(pred.sizes(), ", "), fmt::join(target.sizes(), ", ")));
  }
  if (options.kind() == "mse") return (pred - target).pow(2).mean();
  if (options.kind() == "trimmed") {
    const auto per_row = (pred - target).pow(2).reshape({pred.size(0), -1}).mean(1);
    const int64_t h = trimmed_count(per_row.size(0), options.keep());
    if (h == per_row.size(0)) return per_row.mean();
    return std::get<0>(torch::topk(per_row, h, /*dim=*/0, /*largest=*/false, /*sorted=*/false)).mean();
  }
  throw ConfigError(fmt::format("train.loss.kind = '{}' is not valid: use one of {}", options.kind(),
                                fmt::join(loss_kinds(), ", ")));
}

}  // namespace regula::trainers
