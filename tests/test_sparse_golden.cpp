// Golden values: the science of the README's tables, pinned so that a change
// that alters a published result fails here.  The runs are those of
// `regula demo` (float32 on the CPU, one thread); tolerances allow for another
// CPU's rounding, not for a different result.
#include <cmath>

#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "trainers/experiment.h"
#include "trainers/sparse/demo.h"
#include "trainers/sparse/recover.h"

using namespace regula;
using regula::testutil::RegulaTest;

class Golden : public RegulaTest {};

// README, "Early stopping as a sparse regularizer": experiment 2, short.
TEST_F(Golden, SparseDemoTable) {
  core::RunRequest request;
  request.runs_root = tmp().string();
  request.overrides = {"device=cpu"};
  const auto report = sparse::run_recover(request, sparse::kDemoWindow, "demo-sparse-window");
  struct Row { const char* method; double best_error; int64_t best_step; int64_t coord_start, err_start; double es_error; };
  const std::vector<Row> golden{
      {"depth 2", 0.01229, 265, 190, 230, 0.02166},
      {"depth 3", 0.01302, 1100, 865, 1010, 0.01714},
      {"depth 4", 0.01377, 2685, 2215, 2570, 0.01377},
      {"min-norm LS", 2.586, -1, -1, -1, NAN},
      {"Lasso", 0.04076, -1, -1, -1, NAN},
  };
  ASSERT_EQ(report.rows.size(), golden.size());
  for (std::size_t i = 0; i < golden.size(); ++i) {
    const auto& r = report.rows[i];
    const auto& g = golden[i];
    SCOPED_TRACE(g.method);
    EXPECT_EQ(r.method, g.method);
    EXPECT_NEAR(r.best_error, g.best_error, 0.02 * g.best_error);
    if (g.best_step >= 0) {
      EXPECT_NEAR(r.best_step, g.best_step, 20);
      EXPECT_NEAR(r.coord.start, g.coord_start, 20);
      EXPECT_NEAR(r.err.start, g.err_start, 20);
      EXPECT_NEAR(r.es_error, g.es_error, 0.05 * g.es_error);
    }
  }
  // The claim of the table: every early-stopped depth beats the Lasso (by 2x) and min-norm
  // least squares (by 100x), and deeper networks open the window later and keep it open longer.
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_LT(report.rows[i].best_error * 2, report.rows[4].best_error);
    EXPECT_LT(report.rows[i].best_error * 100, report.rows[3].best_error);
  }
  EXPECT_LT(report.rows[0].coord.start, report.rows[1].coord.start);
  EXPECT_LT(report.rows[1].coord.start, report.rows[2].coord.start);
  EXPECT_LT(report.rows[0].coord.width(), report.rows[1].coord.width());
}

// README, "k-TV on noisy 1-D data": `regula train` on its embedded defaults.
TEST_F(Golden, KtvDemoTable) {
  trainers::ExperimentSpec spec;
  spec.yaml_text = trainers::kTrainDefaults;
  spec.origin = "<train defaults>";
  spec.overrides = {"device=cpu"};
  spec.runs_root = tmp();
  const auto report = trainers::run_experiment(spec);
  ASSERT_EQ(report.summary.size(), 2u);
  const auto mse = [&](std::size_t i) { return report.summary[i].stats.at("test_mse").first; };
  const auto pearson = [&](std::size_t i) { return report.summary[i].stats.at("test_pearson").first; };
  EXPECT_EQ(report.summary[0].variant, "none");
  EXPECT_EQ(report.summary[1].variant, "ktv_k2");
  EXPECT_NEAR(mse(0), 0.01421, 0.05 * 0.01421);
  EXPECT_NEAR(mse(1), 0.003637, 0.05 * 0.003637);
  EXPECT_NEAR(pearson(0), 0.8643, 0.01);
  EXPECT_NEAR(pearson(1), 0.956, 0.01);
  EXPECT_LT(mse(1) * 2, mse(0));  // the penalty's point: a smoother, better fit
}
