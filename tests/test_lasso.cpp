// The Lasso baseline's coordinate-descent solver (trainers/sparse/lasso_cd.h) through
// lasso_path / lasso_validated: closed forms, optimality (KKT) conditions, the reported
// duality gap, warm starts, w >= 0, dtypes and devices.
#include <cmath>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "tests/test_util.h"
#include "trainers/sparse/baselines.h"
#include "trainers/sparse/problem.h"

using namespace regula;
using regula::testutil::RegulaTest;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kDouble);

// The relative duality gap of w, computed here from its definition (trainers/sparse/lasso_cd.h)
// and not by the solver: F = 1/2||r||^2 + a||w||_1, a = n lambda / 2, theta = r min(1, a / ||X^T r||).
double relative_gap(const torch::Tensor& X, const torch::Tensor& y, const torch::Tensor& w, double lambda, bool nonnegative) {
  const double a = 0.5 * lambda * static_cast<double>(X.size(0));
  const auto r = y - X.mv(w);
  const auto c = X.t().mv(r);
  const double worst = (nonnegative ? c.max() : c.abs().max()).item<double>();
  const double s = worst > a ? a / worst : 1.0;
  const double primal = 0.5 * r.dot(r).item<double>() + a * w.abs().sum().item<double>();
  const double dual = s * r.dot(y).item<double>() - 0.5 * s * s * r.dot(r).item<double>();
  return (primal - dual) / primal;
}

// A random problem with a few strong coordinates of both signs.
struct Random {
  torch::Tensor X, y;
};
Random random_problem(int64_t n, int64_t d) {
  Random p;
  p.X = torch::randn({n, d}, kF64);
  auto w = torch::zeros({d}, kF64);
  w.slice(0, 0, 5) = torch::tensor({2.0, -1.5, 1.0, -0.7, 0.5}, kF64);
  p.y = p.X.mv(w) + 0.3 * torch::randn({n}, kF64);
  return p;
}

}  // namespace

class Lasso : public RegulaTest {};

TEST_F(Lasso, OrthogonalDesignHasTheSoftThresholdingSolution) {
  // X^T X = n I: (1/n)||Xw - y||^2 + lambda ||w||_1 separates, w = soft(z, lambda / 2) with
  // z = X^T y / n; with w >= 0, w = max(z - lambda / 2, 0).
  const int64_t n = 16, d = 6;
  const auto Q = std::get<0>(torch::linalg_qr(torch::randn({n, d}, kF64)));
  const auto X = Q * std::sqrt(double(n));
  const auto z = torch::tensor({1.2, -0.8, 0.3, -0.1, 0.9, -1.5}, kF64);
  auto noise = torch::randn({n}, kF64);
  noise -= Q.mv(Q.t().mv(noise));  // a part of y orthogonal to the columns
  const auto y = X.mv(z) + noise;
  const auto lambdas = torch::tensor({1.5, 0.5, 0.05}, kF64);
  const auto o = sparse::LassoOptions().tolerance(1e-14);
  const auto signed_path = sparse::lasso_path(X, y, lambdas, o);
  const auto positive_path = sparse::lasso_path(X, y, lambdas, sparse::LassoOptions(o).nonnegative(true));
  for (int64_t l = 0; l < 3; ++l) {
    const double t = lambdas[l].item<double>() / 2;
    const auto soft = z.sign() * (z.abs() - t).clamp_min(0);
    EXPECT_LT((signed_path.w[l] - soft).abs().max().item<double>(), 1e-10) << signed_path.w[l] << soft;
    const auto positive = (z - t).clamp_min(0);
    EXPECT_LT((positive_path.w[l] - positive).abs().max().item<double>(), 1e-10) << positive_path.w[l] << positive;
  }
}

TEST_F(Lasso, SolutionSatisfiesTheKktConditionsAndReportsItsGap) {
  // Optimality: g = 2 X^T (y - X w) / n has |g_j| <= lambda, and g_j = lambda sign(w_j) on the support.
  const auto p = random_problem(60, 300);
  const double lambda = sparse::lasso_lambda_max(p.X, p.y, false) / 20;
  const double tol = 1e-10;
  const auto path = sparse::lasso_path(p.X, p.y, torch::full({1}, lambda, kF64), sparse::LassoOptions().tolerance(tol));
  const auto w = path.w[0];
  const auto g = p.X.t().mv(p.y - p.X.mv(w)) * (2.0 / 60);
  EXPECT_LE(g.abs().max().item<double>(), lambda * (1 + 1e-4));
  const auto support = w.ne(0);
  ASSERT_GT(support.sum().item<int64_t>(), 3);
  const auto on = g.masked_select(support), sign = w.masked_select(support).sign();
  EXPECT_LT((on - lambda * sign).abs().max().item<double>(), 1e-4 * lambda);
  ASSERT_EQ(path.gap.size(), 1u);
  EXPECT_LE(path.gap[0], tol);
  EXPECT_NEAR(relative_gap(p.X, p.y, w, lambda, false), path.gap[0], 1e-12);
  EXPECT_GT(path.epochs[0], 0);
}

TEST_F(Lasso, WarmStartedPathEqualsColdSolves) {
  const auto p = random_problem(50, 200);
  const auto o = sparse::LassoOptions().lambdas(12).min_ratio(1e-2).tolerance(1e-12);
  const auto lambdas = sparse::lasso_lambdas(p.X, p.y, o);
  const auto path = sparse::lasso_path(p.X, p.y, lambdas, o);
  for (int64_t l = 0; l < lambdas.size(0); ++l) {
    const auto cold = sparse::lasso_path(p.X, p.y, lambdas.slice(0, l, l + 1), o);
    EXPECT_LT((path.w[l] - cold.w[0]).abs().max().item<double>(), 1e-6) << "lambda " << lambdas[l].item<double>();
    EXPECT_LE(path.gap[static_cast<std::size_t>(l)], 1e-12);
  }
  // lambda_max is where the path starts from w = 0.
  EXPECT_EQ(path.w[0].abs().max().item<double>(), 0.0);
  EXPECT_GT(path.w[1].abs().max().item<double>(), 0.0);
}

TEST_F(Lasso, NonnegativeSolutionIsNonnegativeAndOptimal) {
  // With w >= 0 the conditions are g_j <= lambda everywhere and g_j = lambda where w_j > 0.
  const auto p = random_problem(60, 300);
  const double lambda = sparse::lasso_lambda_max(p.X, p.y, true) / 20;
  const auto path = sparse::lasso_path(p.X, p.y, torch::full({1}, lambda, kF64),
                                       sparse::LassoOptions().tolerance(1e-10).nonnegative(true));
  const auto w = path.w[0];
  EXPECT_GE(w.min().item<double>(), 0.0);
  const auto g = p.X.t().mv(p.y - p.X.mv(w)) * (2.0 / 60);
  EXPECT_LE(g.max().item<double>(), lambda * (1 + 1e-4));
  const auto support = w.gt(0);
  ASSERT_GT(support.sum().item<int64_t>(), 2);
  EXPECT_LT((g.masked_select(support) - lambda).abs().max().item<double>(), 1e-4 * lambda);
  EXPECT_LE(path.gap[0], 1e-10);
  EXPECT_NEAR(relative_gap(p.X, p.y, w, lambda, true), path.gap[0], 1e-12);
  // The signed solution uses negative coordinates here, so the constraint is binding.
  const auto free = sparse::lasso_path(p.X, p.y, torch::full({1}, lambda, kF64), sparse::LassoOptions().tolerance(1e-10));
  EXPECT_LT(free.w[0].min().item<double>(), 0.0);
}

TEST_F(Lasso, Float32InputIsSolvedInFloat64AndReturnedInFloat32) {
  const auto p = random_problem(40, 100);
  const auto lambdas = torch::full({1}, sparse::lasso_lambda_max(p.X, p.y, false) / 10, kF64);
  const auto o = sparse::LassoOptions().tolerance(1e-10);
  const auto w64 = sparse::lasso_path(p.X, p.y, lambdas, o).w;
  const auto w32 = sparse::lasso_path(p.X.to(torch::kFloat), p.y.to(torch::kFloat), lambdas, o).w;
  EXPECT_EQ(w32.scalar_type(), torch::kFloat);
  EXPECT_LT((w32.to(torch::kDouble) - w64).abs().max().item<double>(), 1e-4);
}

TEST_F(Lasso, EpochCapReportsTheGapNotReached) {
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(80, 400, 5).n_val(20).seed(2));
  const auto capped = sparse::lasso_validated(pr, sparse::LassoOptions().max_epochs(1).tolerance(1e-12));
  EXPECT_FALSE(capped.converged);
  EXPECT_GT(capped.gap, 1e-12);
  const auto full = sparse::lasso_validated(pr, sparse::LassoOptions());
  EXPECT_TRUE(full.converged);
  EXPECT_LE(full.gap, 1e-6);
  EXPECT_THROW(sparse::lasso_validated(pr, sparse::LassoOptions().tolerance(0)), ConfigError);
}

TEST_F(Lasso, WithoutValidationOrTruthLambdaIsFixed) {
  auto pr = sparse::make_synthetic(sparse::SyntheticOptions(50, 100, 5).seed(3));
  pr.w_star = torch::Tensor();
  const auto r = sparse::lasso_validated(pr);
  EXPECT_EQ(r.selected_by, "fixed");
  EXPECT_NEAR(r.lambda, sparse::lasso_lambda_max(pr.X, pr.y, false) / 100, 1e-15);
  EXPECT_LE(r.gap, 1e-6);
}

class LassoGpu : public RegulaTest {};

TEST_F(LassoGpu, CudaInputIsSolvedOnTheCpuAndReturnedOnItsDevice) {
  REGULA_REQUIRE_CUDA();
  const auto p = random_problem(40, 100);
  const auto lambdas = torch::full({2}, sparse::lasso_lambda_max(p.X, p.y, false) / 10, kF64);
  const auto cpu = sparse::lasso_path(p.X, p.y, lambdas).w;
  const auto gpu = sparse::lasso_path(p.X.cuda(), p.y.cuda(), lambdas.cuda()).w;
  EXPECT_TRUE(gpu.is_cuda());
  EXPECT_LT((gpu.cpu() - cpu).abs().max().item<double>(), 1e-12);
}
