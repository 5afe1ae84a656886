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

void BoxSampler::place(const torch::TensorOptions& options) {
  if (low_.defined() && low_.device() == options.device() && low_.scalar_type() == options.dtype().toScalarType()) return;
  const auto cpu64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto lo = torch::tensor(box_.low, cpu64), hi = torch::tensor(box_.high, cpu64);
  low_ = lo.to(options.device(), options.dtype().toScalarType());
  width_ = (hi - lo).to(options.device(), options.dtype().toScalarType());
}

torch::Tensor BoxSampler::uniform(int64_t count, const torch::TensorOptions& options) {
  const auto opts = options.requires_grad(false);
  place(opts);
  return low_ + width_ * torch::rand({count, box_.dim()}, opts);
}

torch::Tensor BoxSampler::on_faces(const std::vector<BoxFace>& faces, int64_t count,
                                   const torch::TensorOptions& options) {
  TORCH_CHECK(!faces.empty(), "on_faces needs at least one face");
  const auto opts = options.requires_grad(false);
  auto x = uniform(count, opts);
  // Face f fixes coordinate c_f at v_f; its measure is vol / width_{c_f}.
  std::vector<double> measure, value;
  std::vector<int64_t> coordinate;
  for (const auto& [c, upper] : faces) {  // NOLINT: structured binding of a BoxFace
    TORCH_CHECK(c >= 0 && c < box_.dim(), "face coordinate ", c, " outside 0..", box_.dim() - 1);
    const auto j = static_cast<std::size_t>(c);
    measure.push_back(box_.volume() / (box_.high[j] - box_.low[j]));
    value.push_back(upper ? box_.high[j] : box_.low[j]);
    coordinate.push_back(c);
  }
  const auto idx = torch::tensor(measure, torch::kFloat64).to(opts.device()).multinomial(count, /*replacement=*/true);
  const auto cols = torch::tensor(coordinate, torch::kInt64).to(opts.device()).index_select(0, idx);
  const auto vals = torch::tensor(value, torch::kFloat64).to(opts).index_select(0, idx);
  return x.scatter_(1, cols.unsqueeze(1), vals.unsqueeze(1));
}

torch::Tensor sample_coordinates(int64_t d, int64_t count, const torch::Device& device) {
  const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
  if (count <= 0 || count >= d) return torch::arange(d, opts);
  return torch::randperm(d, opts).slice(0, 0, count);
}

}  // namespace regula::regularizers
