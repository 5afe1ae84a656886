// Data generators, CSV data sets, losses, optimizers and schedules of the minibatch trainer.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/optim/optimizer.h>

#include "core/errors.h"
#include "tests/test_util.h"
#include "trainers/data.h"
#include "trainers/losses.h"
#include "trainers/optim.h"

using namespace regula;
using namespace regula::trainers;
using regula::testutil::RegulaTest;

namespace {
double value_at(const torch::Tensor& t, int64_t i) { return t.reshape(-1)[i].item<double>(); }
}  // namespace

TEST(SyntheticTargets, ExactFormulas) {
  // cubic (64/7)(x+3/8)x(x-3/8): zeros at 0, +-3/8, +-1/2 at the ends.
  const auto x = torch::tensor({-0.5, -0.375, 0.0, 0.375, 0.5, 0.25}, torch::kFloat64).unsqueeze(1);
  const auto c = synthetic_target("cubic", x);
  EXPECT_NEAR(value_at(c, 0), -0.5, 1e-15);
  EXPECT_NEAR(value_at(c, 1), 0.0, 1e-15);
  EXPECT_NEAR(value_at(c, 4), 0.5, 1e-15);
  EXPECT_NEAR(value_at(c, 5), 64.0 / 7.0 * 0.625 * 0.25 * -0.125, 1e-15);
  EXPECT_NEAR(value_at(synthetic_target("quadratic", x), 5), 0.25, 1e-15);
  EXPECT_NEAR(value_at(synthetic_target("linear", x), 5), 0.25, 1e-15);
  const auto p = torch::tensor({{0.3, 1.1}, {M_PI + 2.0, M_PI}, {M_PI, M_PI}}, torch::kFloat64);
  EXPECT_NEAR(value_at(synthetic_target("checkered", p), 0), std::sin(0.6) * std::cos(2.2), 1e-15);
  EXPECT_NEAR(value_at(synthetic_target("stripe", p), 0), std::sin(2.8), 1e-15);
  EXPECT_NEAR(value_at(synthetic_target("plane", p), 0), -0.8, 1e-15);
  EXPECT_NEAR(value_at(synthetic_target("volcano", p), 1), 1.0, 1e-15);         // on the rim r = 2
  EXPECT_NEAR(value_at(synthetic_target("volcano", p), 2), std::exp(-4.0), 1e-15);  // in the crater
  EXPECT_THROW(synthetic_target("cubicc", x), ConfigError);
  EXPECT_THROW(synthetic_target("checkered", x), DataError);  // needs 2 columns
}

TEST(SyntheticData, OneDimensionalShapesNoiseAndSeed) {
  const auto d = make_synthetic(SyntheticOptions("cubic").n(4000).noise(0.2).n_val(50).test_points(101).seed(3));
  ASSERT_EQ(d.train_x.sizes(), (std::vector<int64_t>{4000, 1}));
  EXPECT_EQ(d.train_y.sizes(), (std::vector<int64_t>{4000, 1}));
  EXPECT_EQ(d.val_x.size(0), 50);
  EXPECT_EQ(d.test_x.size(0), 101);
  EXPECT_GE(d.train_x.min().item<double>(), -0.5);
  EXPECT_LE(d.train_x.max().item<double>(), 0.5);
  EXPECT_NEAR(value_at(d.test_x, 0), -0.5, 1e-15);
  EXPECT_NEAR(value_at(d.test_x, 100), 0.5, 1e-15);
  EXPECT_TRUE(torch::equal(d.test_y, synthetic_target("cubic", d.test_x)));  // the clean function
  const double sd = (d.train_y - synthetic_target("cubic", d.train_x)).std().item<double>();
  EXPECT_NEAR(sd, 0.2, 0.02);
  const auto again = make_synthetic(SyntheticOptions("cubic").n(4000).noise(0.2).n_val(50).test_points(101).seed(3));
  EXPECT_TRUE(torch::equal(d.train_y, again.train_y));
  const auto other = make_synthetic(SyntheticOptions("cubic").n(4000).noise(0.2).n_val(50).test_points(101).seed(4));
  EXPECT_FALSE(torch::equal(d.train_y, other.train_y));
}

TEST(SyntheticData, TwoDimensionalGridAndOutlierFraction) {
  const auto o = SyntheticOptions("checkered").grid(40).noise(0.1).outliers(0.03).outlier_scale(5).test_points(20);
  const auto d = make_synthetic(o);
  ASSERT_EQ(d.train_x.sizes(), (std::vector<int64_t>{1600, 2}));
  EXPECT_EQ(d.test_x.size(0), 400);
  EXPECT_NEAR(d.train_x.max().item<double>(), 2 * M_PI, 1e-12);
  EXPECT_NEAR(d.train_x.min().item<double>(), 0.0, 1e-12);
  const auto residual = (d.train_y - synthetic_target("checkered", d.train_x)).abs().squeeze(1);
  const auto mask = synthetic_outlier_mask(o);
  EXPECT_EQ(mask.sum().item<int64_t>(), 48);  // round(0.03 * 1600)
  // Outliers moved by at least 2.5 (minus noise), the others only by the noise.
  EXPECT_GT(residual.masked_select(mask).min().item<double>(), 1.5);
  EXPECT_LT(residual.masked_select(mask.logical_not()).max().item<double>(), 1.0);
  EXPECT_THROW(make_synthetic(SyntheticOptions("plane").outliers(1.2)), ConfigError);
  EXPECT_THROW(make_synthetic(SyntheticOptions("nope")), ConfigError);
}

class CsvData : public RegulaTest {
 protected:
  std::filesystem::path write(const std::string& text) {
    const auto path = tmp() / "data.csv";
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(CsvData, SelectsColumnsAndSplits) {
  const auto path = write("a,b,y,z\n1,2,3,4\n5,6,7,8\n9,10,11,12\n13,14,15,16\n17,18,19,20\n21,22,23,24\n"
                          "25,26,27,28\n29,30,31,32\n");
  const auto d = load_csv_dataset(CsvDataOptions(path).features({"b", "a"}).targets({"y"}).val_fraction(0.25).shuffle(false));
  ASSERT_EQ(d.train_x.sizes(), (std::vector<int64_t>{6, 2}));
  EXPECT_EQ(d.val_x.size(0), 2);
  EXPECT_DOUBLE_EQ(d.train_x[0][0].item<double>(), 2.0);  // b first, as asked
  EXPECT_DOUBLE_EQ(d.train_y[1][0].item<double>(), 7.0);
  EXPECT_DOUBLE_EQ(d.val_y[1][0].item<double>(), 31.0);   // no shuffle: the last rows validate
  // Defaults: the last column is the target, every other column a feature.
  const auto all = load_csv_dataset(CsvDataOptions(path).val_fraction(0));
  EXPECT_EQ(all.train_x.size(1), 3);
  EXPECT_EQ(all.target_names, std::vector<std::string>{"z"});
  EXPECT_EQ(all.train_x.size(0), 8);
  // Shuffling keeps rows together.
  const auto shuffled = load_csv_dataset(CsvDataOptions(path).features({"a"}).targets({"y"}).seed(1));
  EXPECT_TRUE(torch::equal(shuffled.train_y, shuffled.train_x + 2));
}

TEST_F(CsvData, ClearErrors) {
  const auto path = write("a,b,y\n1,2,3\n4,5,6\n7,8,9\n");
  try {
    load_csv_dataset(CsvDataOptions(path).features({"a", "q"}));
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no column 'q'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("a, b, y"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_csv_dataset(CsvDataOptions(tmp() / "missing.csv")), DataError);
  EXPECT_THROW(load_csv_dataset(CsvDataOptions(path).val_fraction(0.7)), DataError);  // 1 row left
  EXPECT_THROW(load_csv_dataset(CsvDataOptions(path).val_fraction(1.0)), ConfigError);
}

TEST(Losses, TrimmedKeepsTheSmallestResiduals) {
  const auto target = torch::tensor({1.0, 2.0, 3.0, 100.0, -50.0}, torch::kFloat64).unsqueeze(1);
  auto pred = torch::zeros({5, 1}, torch::kFloat64).requires_grad_(true);
  const auto loss = data_loss(pred, target, LossOptions().kind("trimmed").keep(0.6));
  EXPECT_NEAR(loss.item<double>(), (1.0 + 4.0 + 9.0) / 3.0, 1e-14);
  loss.backward();
  const auto g = pred.grad().squeeze(1);
  EXPECT_NEAR(value_at(g, 0), 2.0 * -1.0 / 3.0, 1e-14);
  EXPECT_EQ(value_at(g, 3), 0.0);  // the two largest residuals get no gradient
  EXPECT_EQ(value_at(g, 4), 0.0);
  EXPECT_EQ(trimmed_count(1000, 0.9), 900);
  EXPECT_EQ(trimmed_count(3, 0.01), 1);
  const auto mse = data_loss(torch::zeros({5, 1}, torch::kFloat64), target, LossOptions());
  EXPECT_NEAR(mse.item<double>(), (1 + 4 + 9 + 10000 + 2500) / 5.0, 1e-10);
  EXPECT_NEAR(data_loss(torch::zeros({5, 1}, torch::kFloat64), target, LossOptions().kind("trimmed").keep(1.0)).item<double>(),
              mse.item<double>(), 1e-10);
  EXPECT_THROW(data_loss(pred, target, LossOptions().kind("huber")), ConfigError);
  EXPECT_THROW(data_loss(pred, target, LossOptions().kind("trimmed").keep(0)), ConfigError);
  EXPECT_THROW(data_loss(pred, target.squeeze(1), LossOptions()), DataError);
}

namespace {
// Two optimizer steps on loss = sum(p^2)/2 (so the gradient is p) from p0 = [1, -2].
torch::Tensor two_steps(const OptimizerOptions& o) {
  auto p = torch::tensor({1.0, -2.0}, torch::kFloat64).requires_grad_(true);
  auto opt = make_optimizer({p}, o);
  for (int i = 0; i < 2; ++i) {
    opt->zero_grad();
    (p.pow(2).sum() / 2).backward();
    opt->step();
  }
  return p.detach();
}
}  // namespace

TEST(Optimizers, MatchHandComputedSteps) {
  auto sgd = two_steps(OptimizerOptions().kind("sgd").lr(0.1));
  EXPECT_NEAR(value_at(sgd, 0), 0.81, 1e-15);  // p <- 0.9 p twice
  EXPECT_NEAR(value_at(sgd, 1), -1.62, 1e-15);
  // Momentum 0.9: v1 = p0, p1 = 0.9 p0; v2 = 0.9 p0 + 0.9 p0, p2 = 0.9 p0 - 0.18 p0 = 0.72 p0.
  auto mom = two_steps(OptimizerOptions().kind("sgd").lr(0.1).momentum(0.9));
  EXPECT_NEAR(value_at(mom, 0), 0.72, 1e-15);
  EXPECT_NEAR(value_at(mom, 1), -1.44, 1e-15);
  // Adam: step 1 moves each coordinate by lr * g/(|g| + eps); step 2 by the bias-corrected ratio.
  auto adam = two_steps(OptimizerOptions().kind("adam").lr(0.1));
  for (int i = 0; i < 2; ++i) {
    const double g0 = i == 0 ? 1.0 : -2.0;
    const double p1 = g0 - 0.1 * g0 / (std::abs(g0) + 1e-8);
    const double m = 0.9 * 0.1 * g0 + 0.1 * p1, v = 0.999 * 0.001 * g0 * g0 + 0.001 * p1 * p1;
    const double mhat = m / (1 - 0.81), vhat = v / (1 - 0.999 * 0.999);
    EXPECT_NEAR(value_at(adam, i), p1 - 0.1 * mhat / (std::sqrt(vhat) + 1e-8), 1e-14);
  }
  EXPECT_THROW(make_optimizer({torch::zeros({1})}, OptimizerOptions().kind("lbfgs")), ConfigError);
  EXPECT_THROW(make_optimizer({torch::zeros({1})}, OptimizerOptions().lr(-1)), ConfigError);
  EXPECT_THROW(make_optimizer({torch::zeros({1})}, OptimizerOptions().kind("sgd").nesterov(true)), ConfigError);
}

TEST(Schedules, StepCosineWarmup) {
  LrSchedule step(ScheduleOptions().kind("step").step_size(100).gamma(0.5), 0.8, 1000);
  EXPECT_DOUBLE_EQ(step.lr(0), 0.8);
  EXPECT_DOUBLE_EQ(step.lr(99), 0.8);
  EXPECT_DOUBLE_EQ(step.lr(100), 0.4);
  EXPECT_DOUBLE_EQ(step.lr(250), 0.2);
  LrSchedule cosine(ScheduleOptions().kind("cosine").min_lr(0.1), 1.1, 200);
  EXPECT_DOUBLE_EQ(cosine.lr(0), 1.1);
  EXPECT_NEAR(cosine.lr(100), 0.6, 1e-15);
  EXPECT_NEAR(cosine.lr(50), 0.1 + 1.0 * 0.5 * (1 + std::cos(M_PI / 4)), 1e-15);
  EXPECT_NEAR(cosine.lr(200), 0.1, 1e-15);
  LrSchedule warm(ScheduleOptions().warmup(4), 1.0, 10);
  EXPECT_DOUBLE_EQ(warm.lr(0), 0.25);
  EXPECT_DOUBLE_EQ(warm.lr(3), 1.0);
  EXPECT_DOUBLE_EQ(warm.lr(9), 1.0);
  auto p = torch::zeros({1}, torch::kFloat64).requires_grad_(true);
  auto opt = make_optimizer({p}, OptimizerOptions().kind("sgd").lr(0.8));
  step.apply(*opt, 150);
  EXPECT_DOUBLE_EQ(opt->param_groups()[0].options().get_lr(), 0.4);
  EXPECT_THROW(LrSchedule(ScheduleOptions().kind("linear"), 1.0, 10), ConfigError);
  EXPECT_THROW(LrSchedule(ScheduleOptions().kind("cosine").min_lr(2.0), 1.0, 10), ConfigError);
}
