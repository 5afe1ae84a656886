#include "trainers/sparse/baselines.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/errors.h"
#include "trainers/sparse/lasso_cd.h"

namespace regula::sparse {

torch::Tensor min_norm_least_squares(const torch::Tensor& X, const torch::Tensor& y) {
  return torch::linalg_pinv(X).matmul(y);
}

namespace {

void check_options(const LassoOptions& o) {
  if (o.lambdas() < 1 || !(o.min_ratio() > 0 && o.min_ratio() <= 1) || !(o.tolerance() > 0) || o.max_epochs() < 1) {
    throw ConfigError(fmt::format("Lasso options lambdas = {}, min_ratio = {}, tolerance = {}, max_epochs = {} are not "
                                  "valid: need >= 1, (0, 1], > 0, >= 1",
                                  o.lambdas(), o.min_ratio(), o.tolerance(), o.max_epochs()));
  }
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace

double lasso_lambda_max(const torch::Tensor& X, const torch::Tensor& y, bool nonnegative) {
  torch::NoGradGuard no_grad;
  // Only positive correlations can make w_j > 0 worth its penalty when w >= 0.
  const auto corr = X.t().mv(y) * (2.0 / static_cast<double>(X.size(0)));
  return std::max((nonnegative ? corr : corr.abs()).max().item<double>(), 1e-12);
}

torch::Tensor lasso_lambdas(const torch::Tensor& X, const torch::Tensor& y, const LassoOptions& o) {
  check_options(o);
  const double lmax = lasso_lambda_max(X, y, o.nonnegative());
  return torch::logspace(std::log10(lmax), std::log10(lmax * o.min_ratio()), o.lambdas(), 10.0,
                         torch::TensorOptions().dtype(torch::kDouble));
}

LassoPath lasso_path(const torch::Tensor& X, const torch::Tensor& y, const torch::Tensor& lambdas,
                     const LassoOptions& o) {
  check_options(o);
  torch::NoGradGuard no_grad;
  const ColumnDesign design(X);
  const auto targets = to_vector(y);
  const auto values = to_vector(lambdas);
  std::vector<double> w(static_cast<std::size_t>(design.d), 0.0), r = targets;
  LassoPath path;
  auto W = torch::empty({static_cast<int64_t>(values.size()), design.d}, torch::TensorOptions().dtype(torch::kDouble));
  for (std::size_t l = 0; l < values.size(); ++l) {
    const auto st = lasso_coordinate_descent(design, targets, values[l], o.nonnegative(), o.tolerance(),
                                             o.max_epochs(), w, r);
    std::copy(w.begin(), w.end(), W[static_cast<int64_t>(l)].data_ptr<double>());
    path.gap.push_back(st.gap);
    path.epochs.push_back(st.epochs);
  }
  path.w = W.to(X.options());
  return path;
}

LassoResult lasso_validated(const SparseProblem& pr, const LassoOptions& o) {
  torch::NoGradGuard no_grad;
  LassoResult r;
  torch::Tensor lambdas;
  if (pr.n_val() > 0) {
    r.selected_by = "validation";
    lambdas = lasso_lambdas(pr.X, pr.y, o);
  } else if (pr.has_truth()) {
    r.selected_by = "oracle";
    lambdas = lasso_lambdas(pr.X, pr.y, o);
  } else {
    r.selected_by = "fixed";
    lambdas = torch::full({1}, lasso_lambda_max(pr.X, pr.y, o.nonnegative()) / 100, torch::kDouble);
  }
  const auto path = lasso_path(pr.X, pr.y, lambdas, o);
  int64_t pick = 0;
  if (r.selected_by == "validation") {
    pick = (path.w.matmul(pr.X_val.t()) - pr.y_val).square().mean(1).argmin().item<int64_t>();
  } else if (r.selected_by == "oracle") {
    pick = (path.w - pr.w_star).square().sum(1).argmin().item<int64_t>();
  }
  r.w = path.w[pick];
  r.lambda = lambdas[pick].item<double>();
  r.gap = path.gap[static_cast<std::size_t>(pick)];
  r.converged = r.gap <= o.tolerance();
  return r;
}

}  // namespace regula::sparse
