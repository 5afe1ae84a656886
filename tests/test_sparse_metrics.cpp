// Window definitions on crafted trajectories, quantiles, the baselines
// against closed forms, and the published qualitative claims on small
// seeded problems.
#include <cmath>

#include <gtest/gtest.h>

#include "trainers/sparse/problem.h"
#include "tests/test_util.h"
#include "trainers/sparse/baselines.h"
#include "trainers/sparse/batched_gd.h"
#include "trainers/sparse/metrics.h"

using namespace regula;
using regula::testutil::RegulaTest;
using sparse::Window;

class SparseMetrics : public RegulaTest {};

TEST_F(SparseMetrics, CoordinateWindowOnACraftedTrajectory) {
  const std::vector<int64_t> steps{0, 10, 20, 30, 40, 50, 60};
  const std::vector<double> sdev{1.0, 0.5, 0.1, 0.05, 0.02, 0.01, 0.01};  // within 0.1 from step 20 (<= tol)
  const std::vector<double> off{0.0, 0.01, 0.02, 0.05, 0.2, 0.5, 0.9};    // exceeds 0.1 at step 40
  auto w = sparse::coordinate_window(steps, sdev, off, 0.1, 0.1);
  EXPECT_EQ(w.start, 20);
  EXPECT_EQ(w.end, 40);
  EXPECT_FALSE(w.censored);
  EXPECT_EQ(w.width(), 20);
  // Never exceeds: censored at the last step.
  w = sparse::coordinate_window(steps, sdev, off, 0.1, 1.0);
  EXPECT_EQ(w.end, 60);
  EXPECT_TRUE(w.censored);
  // Off-support blows up before the support is reached: empty.
  w = sparse::coordinate_window(steps, sdev, off, 0.1, 0.015);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.width(), 0);
}

TEST_F(SparseMetrics, ErrorWindowIsTheContiguousRunAroundTheBest) {
  const std::vector<int64_t> steps{0, 10, 20, 30, 40, 50, 60, 70};
  const std::vector<double> err{8.0, 1.5, 1.2, 1.0, 1.4, 1.45, 3.0, 1.1};  // 1.1 at 70 is outside the run
  const auto w = sparse::error_window(steps, err, std::sqrt(2.0));
  EXPECT_EQ(w.start, 20);  // 1.5 > 1.414
  EXPECT_EQ(w.end, 40);    // 1.45 > 1.414
  EXPECT_FALSE(w.censored);
  EXPECT_EQ(sparse::argmin_finite({NAN, 3.0, 2.0, INFINITY}), 2);
  const auto wide = sparse::error_window(steps, err, 1.5);
  EXPECT_EQ(wide.start, 10);
  EXPECT_EQ(wide.end, 50);
  EXPECT_TRUE(sparse::error_window({0, 10, 20}, {5.0, 5.0, 5.0}, 2.0).empty());  // nothing learned
}

TEST_F(SparseMetrics, MedianWindowOverReplicates) {
  using W = sparse::Window;
  // Median start and end of the non-empty windows; censored when most are.
  const auto m = sparse::median_window({W{100, 400, false}, W{200, 500, true}, W{300, 600, true}}, 600);
  EXPECT_EQ(m.start, 200);
  EXPECT_EQ(m.end, 500);
  EXPECT_TRUE(m.censored);
  const auto one_empty = sparse::median_window({W{100, 300, false}, W{}, W{300, 500, false}}, 600);
  EXPECT_EQ(one_empty.start, 200);
  EXPECT_EQ(one_empty.end, 400);
  EXPECT_FALSE(one_empty.censored);
  EXPECT_TRUE(sparse::median_window({W{100, 300, false}, W{}, W{}}, 600).empty());  // most learned nothing
  EXPECT_TRUE(sparse::median_window({}, 600).empty());
  // Quantiles ignore NaN (runs without a value) and interpolate.
  EXPECT_DOUBLE_EQ(sparse::quantile({1.0, NAN, 3.0, 2.0}, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(sparse::quantile({1.0, 2.0}, 0.25), 1.25);
  EXPECT_TRUE(std::isnan(sparse::quantile({NAN}, 0.5)));
}

TEST_F(SparseMetrics, MedianCurveOverReplicates) {
  const std::vector<std::vector<double>> curves{{1, 5, 9}, {3, 4, 7}, {2, 6, NAN}};
  EXPECT_EQ(sparse::quantile_curve(curves, 0.5), (std::vector<double>{2, 5, 8}));
  EXPECT_DOUBLE_EQ(sparse::quantile({4, 1, 3, 2}, 0.25), 1.75);
  EXPECT_TRUE(std::isnan(sparse::quantile({}, 0.5)));
}

TEST_F(SparseMetrics, LassoPicksLambdaOnValidationAndBeatsLeastSquares) {
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(80, 200, 4).sigma(0.3).n_val(40).seed(5));
  const auto r = sparse::lasso_validated(pr, sparse::LassoOptions().lambdas(20));
  EXPECT_EQ(r.selected_by, "validation");
  EXPECT_GT(r.lambda, 0);
  const double lasso = (r.w - pr.w_star).square().sum().item<double>();
  const double ls = (sparse::min_norm_least_squares(pr.X, pr.y) - pr.w_star).square().sum().item<double>();
  EXPECT_LT(lasso, 0.5);
  EXPECT_LT(lasso, ls / 4);
}

TEST_F(SparseMetrics, MinNormLeastSquaresMatchesTheClosedForm) {
  const auto X = torch::randn({5, 9}, torch::kDouble), y = torch::randn({5}, torch::kDouble);
  const auto w = sparse::min_norm_least_squares(X, y);
  const auto closed = X.t().mv(torch::linalg_solve(X.matmul(X.t()), y, true));  // X^T (X X^T)^{-1} y
  EXPECT_TRUE(torch::allclose(w, closed, 1e-9, 1e-10));
  EXPECT_TRUE(torch::allclose(X.mv(w), y, 1e-9, 1e-10));  // interpolates
}

namespace {
/// Median coordinate- and error-window widths per depth on seeded replicates.
std::vector<std::pair<double, double>> window_widths(const std::vector<int64_t>& depths, int64_t reps, int64_t steps) {
  std::vector<sparse::SparseProblem> problems;
  for (int64_t r = 0; r < reps; ++r) {
    problems.push_back(sparse::make_synthetic(sparse::SyntheticOptions(100, 200, 5).sigma(0.5).seed(uint64_t(r))));
  }
  std::vector<sparse::GDConfig> configs;
  for (auto N : depths) configs.push_back({N, std::pow(1e-5, 1.0 / double(N)), 1e-2});
  const auto pb = sparse::stack_problems(problems, torch::kCPU, torch::kFloat);
  const auto res = sparse::run_batched_gd(pb, configs, sparse::BatchedGDOptions().steps(steps).eval_every(25));
  std::vector<std::pair<double, double>> out;
  for (int64_t c = 0; c < res.configs; ++c) {
    std::vector<double> cw;
    std::vector<std::vector<double>> errs;
    for (int64_t p = 0; p < res.problems; ++p) {
      const auto i = static_cast<std::size_t>(res.index(p, c));
      cw.push_back(double(sparse::coordinate_window(res.steps, res.support_dev[i], res.off_max[i], 0.1,
                                                      std::pow(1e-5, 0.25)).width()));
      errs.push_back(res.error[i]);
    }
    const auto ew = sparse::error_window(res.steps, sparse::quantile_curve(errs, 0.5), std::sqrt(2.0));
    out.emplace_back(sparse::quantile(cw, 0.5), double(ew.width()));
  }
  return out;
}
}  // namespace

TEST_F(SparseMetrics, DeeperNetworksHaveWiderWindows) {
  // Experiment 2 (n = 100, d = 200, k = 5, w0 = 1e-5, eta = 1e-2), 6 replicates.
  const auto w = window_widths({2, 3}, 6, 6000);
  EXPECT_GT(w[1].first, w[0].first) << "coordinate window N=3 vs N=2";
  EXPECT_GT(w[1].second, w[0].second) << "error window N=3 vs N=2";
}

TEST_F(SparseMetrics, LargerCoordinatesAreLearnedFirst) {
  // Experiment 4 (support values 1, 2, 3, 4), smaller: the time at which each support
  // coordinate reaches half its value decreases with the value.
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(200, 400, 4).support_values({1, 2, 3, 4}).sigma(0.5).seed(7));
  const auto pb = sparse::stack_problems({pr}, torch::kCPU, torch::kDouble);
  for (int64_t depth : {2, 3}) {
    const auto res = sparse::run_batched_gd(pb, {{depth, std::pow(1e-4, 1.0 / double(depth)), 1e-3}},
                                              sparse::BatchedGDOptions().steps(6000).eval_every(10).path_coords(4));
    ASSERT_EQ(res.path_index, (std::vector<int64_t>{0, 1, 2, 3}));
    std::vector<int64_t> reached(4, -1);
    for (std::size_t t = 0; t < res.steps.size(); ++t) {
      for (std::size_t k = 0; k < 4; ++k) {
        if (reached[k] < 0 && res.paths[0][t * 4 + k] >= 0.5 * double(k + 1)) reached[k] = res.steps[t];
      }
    }
    for (std::size_t k = 0; k < 4; ++k) ASSERT_GE(reached[k], 0) << "coordinate " << k << " never learned";
    EXPECT_GT(reached[0], reached[1]);
    EXPECT_GT(reached[1], reached[2]);
    EXPECT_GT(reached[2], reached[3]);
  }
}
