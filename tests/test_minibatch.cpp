// The minibatch trainer: it learns, early stopping stops and restores the best
// weights, checkpoint + resume equals an uninterrupted run bit for bit; the model registry.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/errors.h"
#include "models/mlp.h"
#include "models/registry.h"
#include "regularizers/regularizer.h"
#include "tests/test_util.h"
#include "trainers/callbacks.h"
#include "trainers/minibatch.h"

using namespace regula;
using namespace regula::trainers;
using regula::testutil::RegulaTest;

namespace {

// A penalty that draws random numbers every step (like k-TV's points), so that
// resuming must restore the global generator to be exact.
class NoisyL2 : public regularizers::Regularizer {
 public:
  explicit NoisyL2(double weight = 1e-6) : weight_(weight) {}
  std::string name() const override { return "noisy_l2"; }
  torch::Tensor penalty(const models::Model& model) override {
    torch::Tensor total = torch::zeros({}, models::parameter_options(model));
    for (const auto& p : model.module->parameters()) total = total + (p.pow(2) * torch::rand_like(p)).sum();
    return weight_ * total;
  }

 private:
  double weight_;
};

// Records the metrics and the weights at every evaluation; optionally throws at a step (a crash).
class Recorder : public Callback {
 public:
  explicit Recorder(int64_t crash_at = -1) : crash_at_(crash_at) {}
  void on_eval_end(TrainState& s) override {
    metrics.push_back(s.metrics);
    weights.push_back(snapshot_weights(*s.model));
  }
  void on_step_end(TrainState& s) override {
    if (s.step == crash_at_) throw std::runtime_error("simulated crash");
  }
  std::vector<std::map<std::string, double>> metrics;
  std::vector<std::vector<torch::Tensor>> weights;

 private:
  int64_t crash_at_;
};

models::Model small_mlp(uint64_t seed) {
  core::seed_everything(seed);
  return models::as_model(models::MLP(models::MLPOptions({1, 16, 16, 1}).activation("tanh")));
}

Dataset cubic(int64_t n = 64) {
  return make_synthetic(SyntheticOptions("cubic").n(n).noise(0.05).n_val(32).test_points(64).seed(1));
}

bool same_weights(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

class Minibatch : public RegulaTest {};

TEST_F(Minibatch, ReducesTheLossWithMinibatchesAndAPenalty) {
  auto model = small_mlp(0);
  const auto data = cubic();
  const double initial_mse = (model.forward(data.train_x.to(torch::kFloat32)) - data.train_y).pow(2).mean().item<double>();
  MinibatchTrainer trainer(model, {std::make_shared<NoisyL2>()},
                           MinibatchOptions().steps(400).batch_size(16).eval_every(50).optimizer(OptimizerOptions().lr(1e-2)));
  auto rec = std::make_shared<Recorder>();
  trainer.add_callback(rec);
  const auto result = trainer.fit(data);
  EXPECT_EQ(result.steps, 400);
  ASSERT_EQ(rec->metrics.size(), 8u);
  EXPECT_LT(result.metrics.at("train_mse"), 0.2 * initial_mse);
  EXPECT_LT(rec->metrics.back().at("train_loss"), rec->metrics.front().at("train_loss"));
  EXPECT_GT(rec->metrics.back().at("penalty"), 0.0);
  EXPECT_GT(result.metrics.at("test_pearson"), 0.8);
  EXPECT_LT(result.metrics.at("test_mse"), 0.05);
  EXPECT_TRUE(result.metrics.count("val_loss"));
}

TEST_F(Minibatch, EarlyStoppingStopsAndRestoresTheBestWeights) {
  // Validation targets are the negated training targets: fitting the training
  // data makes val_loss worse, so the best evaluation is an early one.
  auto data = cubic();
  data.val_x = data.train_x.clone();
  data.val_y = -data.train_y;
  auto model = small_mlp(0);
  MinibatchTrainer trainer(model, {}, MinibatchOptions().steps(2000).eval_every(5).optimizer(OptimizerOptions().lr(1e-2)));
  auto rec = std::make_shared<Recorder>();
  auto stopper = std::make_shared<EarlyStopping>(EarlyStoppingOptions().patience(3));
  trainer.add_callback(rec);
  trainer.add_callback(stopper);
  const auto result = trainer.fit(data);
  EXPECT_LT(result.steps, 2000);
  EXPECT_EQ(result.steps, stopper->stopped_step());
  EXPECT_NE(result.stop_reason.find("did not improve for 3"), std::string::npos) << result.stop_reason;
  std::size_t best = 0;
  for (std::size_t i = 0; i < rec->metrics.size(); ++i) {
    if (rec->metrics[i].at("val_loss") < rec->metrics[best].at("val_loss")) best = i;
  }
  EXPECT_EQ(static_cast<int64_t>(best + 1) * 5, stopper->best_step());
  EXPECT_EQ(rec->metrics.size(), best + 1 + 3);  // patience counted in evaluations
  EXPECT_TRUE(same_weights(snapshot_weights(*model.module), rec->weights[best]));
  EXPECT_DOUBLE_EQ(result.metrics.at("val_loss"), rec->metrics[best].at("val_loss"));
}

TEST_F(Minibatch, ResumeEqualsAnUninterruptedRunBitForBit) {
  const auto data = cubic(50);  // 50 rows, batches of 16: epochs end mid-way, the last partial batch is dropped
  auto options = [&](const std::filesystem::path& dir) {
    return MinibatchOptions().steps(60).batch_size(16).eval_every(7).checkpoint_every(10).checkpoint_dir(dir)
        .shuffle_seed(5).optimizer(OptimizerOptions().kind("adam").lr(5e-3))
        .schedule(ScheduleOptions().kind("cosine").min_lr(1e-4));
  };
  auto build = [&](const std::filesystem::path& dir, uint64_t init_seed, int64_t crash_at) {
    auto trainer = std::make_unique<MinibatchTrainer>(small_mlp(init_seed),
        std::vector<std::shared_ptr<regularizers::Regularizer>>{std::make_shared<NoisyL2>(1e-3)}, options(dir));
    trainer->add_callback(std::make_shared<CsvLogger>((dir / "metrics.csv").string()));
    trainer->add_callback(std::make_shared<EarlyStopping>(EarlyStoppingOptions().patience(100)));
    trainer->add_callback(std::make_shared<Recorder>(crash_at));
    return trainer;
  };
  std::filesystem::create_directories(tmp() / "a");
  std::filesystem::create_directories(tmp() / "b");
  core::seed_everything(42);
  auto a = build(tmp() / "a", 0, -1);
  a->fit(data);
  const auto final_a = snapshot_weights(*a->model().module);

  core::seed_everything(42);
  auto b = build(tmp() / "b", 0, 25);
  EXPECT_THROW(b->fit(data), std::runtime_error);
  const auto checkpoint = core::latest_checkpoint(tmp() / "b");
  ASSERT_EQ(checkpoint.filename().string(), "step_00000020.pt");

  core::seed_everything(999);  // another process: other RNG state, other initial weights
  auto c = build(tmp() / "b", 7, -1);
  c->resume_from(checkpoint);
  const auto result = c->fit(data);
  EXPECT_EQ(result.steps, 60);
  EXPECT_TRUE(same_weights(final_a, snapshot_weights(*c->model().module)));
  EXPECT_EQ(read_text(tmp() / "a" / "metrics.csv"), read_text(tmp() / "b" / "metrics.csv"));
  // The optimizer state matches too: one more step from both (same penalty draws).
  core::seed_everything(1);
  a->step(data.train_x.to(torch::kFloat32), data.train_y.to(torch::kFloat32));
  core::seed_everything(1);
  c->step(data.train_x.to(torch::kFloat32), data.train_y.to(torch::kFloat32));
  EXPECT_TRUE(same_weights(snapshot_weights(*a->model().module), snapshot_weights(*c->model().module)));
}

TEST_F(Minibatch, BadOptionsAreConfigErrors) {
  EXPECT_THROW(MinibatchTrainer(small_mlp(0), {}, MinibatchOptions().steps(0)), ConfigError);
  EXPECT_THROW(MinibatchTrainer(small_mlp(0), {}, MinibatchOptions().eval_every(0)), ConfigError);
  EXPECT_THROW(MinibatchTrainer(small_mlp(0), {}, MinibatchOptions().checkpoint_every(5)), ConfigError);
  EXPECT_THROW(MinibatchTrainer(small_mlp(0), {}, MinibatchOptions().loss(LossOptions().kind("l1"))), ConfigError);
}

TEST_F(Minibatch, RegistryBuildsMlpAndUserModules) {
  auto config = core::Config::from_string("model: {kind: mlp, hidden: [8, 4], activation: sigmoid}\n"
                                          "user: {kind: residual_mlp, width: 12, blocks: 1}\n"
                                          "bad: {kind: transformer}\n", "<test>");
  auto mlp = models::make_model(config.root().section("model"), 3, 2);
  EXPECT_EQ(mlp.name, "mlp");
  EXPECT_EQ(mlp.forward(torch::zeros({5, 3})).sizes(), (std::vector<int64_t>{5, 2}));
  auto user = models::make_model(config.root().section("user"), 2, 1);
  EXPECT_EQ(user.name, "residual_mlp");
  EXPECT_EQ(user.forward(torch::zeros({4, 2})).sizes(), (std::vector<int64_t>{4, 1}));
  const auto kinds = models::registered_models();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "residual_mlp"), kinds.end());
  try {
    models::make_model(config.root().section("bad"), 2, 1);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown model kind 'transformer'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("mlp, residual_mlp"), std::string::npos) << msg;
  }
}

TEST_F(Minibatch, UserModuleTrainsWithKtvThroughAutograd) {
  auto config = core::Config::from_string(
      "model: {kind: residual_mlp, width: 16, blocks: 2}\n"
      "regularizer: {kind: ktv, order: 2, weight: 1e-4, samples: 16}\n", "<test>");
  core::seed_everything(0);
  auto model = models::make_model(config.root().section("model"), 1, 1);
  auto ktv = regularizers::make_regularizer(config.root().section("regularizer"));
  MinibatchTrainer trainer(model, {ktv}, MinibatchOptions().steps(300).eval_every(50).optimizer(OptimizerOptions().lr(1e-2)));
  auto rec = std::make_shared<Recorder>();
  trainer.add_callback(rec);
  const auto data = cubic();
  const double initial_mse = (model.forward(data.train_x.to(torch::kFloat32)) - data.train_y).pow(2).mean().item<double>();
  const auto result = trainer.fit(data);
  EXPECT_LT(result.metrics.at("train_mse"), 0.2 * initial_mse);
  EXPECT_GT(rec->metrics.back().at("penalty"), 0.0);
  EXPECT_GT(result.metrics.at("test_pearson"), 0.9);
}
