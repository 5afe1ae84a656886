#include "regularizers/box.h"

#include <cmath>

#include "core/errors.h"

namespace regula::regularizers {

double Box::volume() const {
  double v = 1.0;
  for (std::size_t j = 0; j < low.size(); ++j) v *= high[j] - low[j];
  return v;
}

Box Box::padded(double padding) const {
  Box b = *this;
  for (std::size_t j = 0; j < low.size(); ++j) {
    const double w = high[j] - low[j];
    b.low[j] -= padding * w;
    b.high[j] += padding * w;
  }
  return b;
}

Box Box::broadcast(int64_t d) const {
  if (dim() != 1 || d == 1) return *this;
  Box b;
  b.low.assign(static_cast<std::size_t>(d), low[0]);
  b.high.assign(static_cast<std::size_t>(d), high[0]);
  return b;
}

Box bounding_box(const torch::Tensor& inputs) {
  if (!inputs.defined() || inputs.dim() != 2 || inputs.size(0) == 0) {
    throw DataError("k-TV domain 'data' needs the training inputs as a non-empty [n, d] tensor; "
                    "give an explicit domain instead");
  }
  const auto x = inputs.detach().to(torch::kCPU, torch::kFloat64);
  const auto lo = std::get<0>(x.min(0)), hi = std::get<0>(x.max(0));
  Box b;
  for (int64_t j = 0; j < x.size(1); ++j) {
    b.low.push_back(lo[j].item<double>());
    b.high.push_back(hi[j].item<double>());
    if (!(b.high.back() > b.low.back()) || !std::isfinite(b.low.back()) || !std::isfinite(b.high.back())) {
      throw DataError(fmt::format("k-TV domain 'data': input coordinate {} spans [{}, {}], which has no volume; "
                                  "give the domain explicitly", j, b.low.back(), b.high.back()));
    }
  }
  return b;
}

torch::Tensor sample_coordinates(int64_t d, int64_t count, const torch::Device& device) {
  const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
  if (count <= 0 || count >= d) return torch::arange(d, opts);
  return torch::randperm(d, opts).slice(0, 0, count);
}

}  // namespace regula::regularizers
