#include "trainers/sparse/baselines.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/errors.h"

namespace regula::sparse {

torch::Tensor min_norm_least_squares(const torch::Tensor& X, const torch::Tensor& y) {
  return torch::linalg_pinv(X).matmul(y);
}

namespace {

double lipschitz(const torch::Tensor& X) {
  // Power iteration on X^T X, entirely on the device; one host read at the end.
  auto v = torch::ones({X.size(1)}, X.options()) / std::sqrt(static_cast<double>(X.size(1)));
  torch::Tensor s2;
  for (int i = 0; i < 100; ++i) {
    const auto z = X.t().mv(X.mv(v));
    s2 = z.norm();
    v = z / s2.clamp_min(1e-300);
  }
  return 2.0 * s2.item<double>() * 1.01 / static_cast<double>(X.size(0));  // 1% margin over the estimate
}

}  // namespace

torch::Tensor lasso_path(const torch::Tensor& X, const torch::Tensor& y, const torch::Tensor& lambdas,
                         int64_t iterations, bool nonnegative) {
  torch::NoGradGuard no_grad;
  const double lip = lipschitz(X);
  const int64_t L = lambdas.size(0), d = X.size(1);
  const double scale = 2.0 / static_cast<double>(X.size(0));
  const auto thr = (lambdas / lip).view({L, 1});
  auto w = torch::zeros({L, d}, X.options()), z = w.clone();
  double t = 1.0;
  for (int64_t k = 0; k < iterations; ++k) {
    const auto grad = (z.matmul(X.t()) - y).matmul(X) * scale;  // [L, d]
    const auto a = z - grad / lip;
    const auto w_next = nonnegative ? (a - thr).clamp_min(0) : a.sign() * (a.abs() - thr).clamp_min(0);
    const double t_next = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
    z = w_next + (w_next - w) * ((t - 1.0) / t_next);
    w = w_next;
    t = t_next;
  }
  return w;
}

LassoResult lasso_validated(const SparseProblem& pr, const LassoOptions& o) {
  if (o.lambdas() < 1 || !(o.min_ratio() > 0 && o.min_ratio() <= 1) || o.iterations() < 1) {
    throw ConfigError(fmt::format("Lasso options lambdas = {}, min_ratio = {}, iterations = {} are not valid: need >= 1, (0, 1], >= 1",
                                  o.lambdas(), o.min_ratio(), o.iterations()));
  }
  torch::NoGradGuard no_grad;
  // Smallest \lambda with w = 0 the solution (only positive correlations matter when w >= 0).
  const auto corr = pr.X.t().mv(pr.y) * (2.0 / static_cast<double>(pr.n()));
  const double lmax = std::max((o.nonnegative() ? corr : corr.abs()).max().item<double>(), 1e-12);
  const auto lambdas = torch::logspace(std::log10(lmax), std::log10(lmax * o.min_ratio()), o.lambdas(), 10.0,
                                       pr.X.options());
  const auto W = lasso_path(pr.X, pr.y, lambdas, o.iterations(), o.nonnegative());
  LassoResult r;
  int64_t pick = -1;
  if (pr.n_val() > 0) {
    pick = (W.matmul(pr.X_val.t()) - pr.y_val).square().mean(1).argmin().item<int64_t>();
    r.selected_by = "validation";
  } else if (pr.has_truth()) {
    pick = (W - pr.w_star).square().sum(1).argmin().item<int64_t>();
    r.selected_by = "oracle";
  } else {
    r.w = lasso_path(pr.X, pr.y, torch::full({1}, lmax / 100, pr.X.options()), o.iterations(), o.nonnegative())[0];
    r.lambda = lmax / 100;
    r.selected_by = "fixed";
    return r;
  }
  r.w = W[pick];
  r.lambda = lambdas[pick].item<double>();
  return r;
}

}  // namespace regula::sparse
