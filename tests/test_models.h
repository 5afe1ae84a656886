#pragma once
// Shared helpers of the derivative-engine tests: a float64 MLP with random weights, and the
// relative difference the float64 checks compare against 1e-10.
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "models/mlp.h"

namespace regula::testutil {

/// A float64 MLP of these widths with every parameter ~ N(0, scale^2).
inline models::Model random_mlp(std::vector<int64_t> widths, const std::string& activation, double scale = 0.7) {
  models::MLP mlp(models::MLPOptions(std::move(widths)).activation(activation).init("normal"));
  mlp->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : mlp->parameters()) p.normal_(0.0, scale);
  return models::as_model(mlp);
}

/// max |a - b| / max |b| (the plain difference when b is 0).
inline double max_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  const double diff = (a - b).abs().max().item<double>();
  return scale == 0.0 ? diff : diff / scale;
}

}  // namespace regula::testutil
