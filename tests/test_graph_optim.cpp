#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "trainers/cuda_graph.h"
#include "trainers/graph_optim.h"
#include "tests/test_util.h"

using namespace regula;
using namespace regula::trainers;
using regula::testutil::RegulaTest;

namespace {

// Two identical float64 models and a fixed regression problem.
struct Twins {
  torch::nn::Linear a{nullptr}, b{nullptr};
  torch::Tensor x, y;
  explicit Twins(torch::Device device = torch::kCPU) {
    a = torch::nn::Linear(5, 3);
    a->to(torch::kDouble);
    b = torch::nn::Linear(5, 3);
    b->to(torch::kDouble);
    torch::NoGradGuard g;
    for (std::size_t i = 0; i < a->parameters().size(); ++i) b->parameters()[i].copy_(a->parameters()[i]);
    a->to(device);
    b->to(device);
    x = torch::randn({16, 5}, torch::dtype(torch::kDouble).device(device));
    y = torch::randn({16, 3}, torch::dtype(torch::kDouble).device(device));
  }
  void backward(torch::nn::Linear& m) { (m->forward(x) - y).pow(2).mean().backward(); }
};

// `steps` identical training steps of both twins, each with its own optimizer.
template <class Ref, class Ours>
void train_both(Twins& t, Ref& ref, Ours& ours, int steps) {
  for (int step = 0; step < steps; ++step) {
    ref.zero_grad();
    t.backward(t.a);
    ref.step();
    ours.zero_grad();
    t.backward(t.b);
    ours.step();
  }
}

void expect_same(const std::vector<torch::Tensor>& p, const std::vector<torch::Tensor>& q, double tol) {
  ASSERT_EQ(p.size(), q.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    EXPECT_TRUE(torch::allclose(p[i].cpu(), q[i].cpu(), tol, tol)) << "parameter " << i;
  }
}

}  // namespace

TEST(GraphSafeAdam, MatchesLibTorchAdamIncludingLrChanges) {
  Twins t;
  torch::optim::Adam ref(t.a->parameters(), torch::optim::AdamOptions(0.05).weight_decay(0.01));
  GraphSafeAdam ours(t.b->parameters(), GraphSafeAdamOptions(0.05).weight_decay(0.01));
  train_both(t, ref, ours, 15);
  // A schedule changes the learning rate mid-run.
  static_cast<torch::optim::AdamOptions&>(ref.param_groups()[0].options()).lr(0.01);
  ours.set_lr(0.01);
  train_both(t, ref, ours, 15);
  expect_same(t.a->parameters(), t.b->parameters(), 1e-12);
  EXPECT_EQ(ours.step_count().item<double>(), 30.0);
}

TEST(GraphSafeSGD, MatchesLibTorchSGDWithMomentum) {
  Twins t;
  torch::optim::SGD ref(t.a->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-3));
  GraphSafeSGD ours(t.b->parameters(), GraphSafeSGDOptions(0.1).momentum(0.9).weight_decay(1e-3));
  train_both(t, ref, ours, 25);
  expect_same(t.a->parameters(), t.b->parameters(), 1e-12);
}

class GraphSafeResume : public RegulaTest {};

TEST_F(GraphSafeResume, CheckpointContinuesExactly) {
  Twins t;
  GraphSafeAdam full(t.a->parameters(), GraphSafeAdamOptions(0.05));
  GraphSafeAdam half(t.b->parameters(), GraphSafeAdamOptions(0.05));
  for (int s = 0; s < 10; ++s) {
    full.zero_grad(), t.backward(t.a), full.step();
    half.zero_grad(), t.backward(t.b), half.step();
  }
  core::CheckpointWriter w;
  half.save(w, "opt.");
  w.module("m", *t.b).commit(tmp() / "c.pt");
  // A fresh optimizer and model restored from the checkpoint.
  torch::nn::Linear fresh(5, 3);
  fresh->to(torch::kDouble);
  GraphSafeAdam resumed(fresh->parameters(), GraphSafeAdamOptions(0.05));
  core::CheckpointReader r(tmp() / "c.pt");
  r.module("m", *fresh);
  resumed.load(r, "opt.");
  for (int s = 0; s < 10; ++s) {
    full.zero_grad(), t.backward(t.a), full.step();
    resumed.zero_grad(), t.backward(fresh), resumed.step();
  }
  expect_same(t.a->parameters(), fresh->parameters(), 0);
}

TEST(GraphSafeOptim, BadOptionsAreConfigErrors) {
  torch::nn::Linear m(2, 2);
  EXPECT_THROW(GraphSafeAdam(m->parameters(), GraphSafeAdamOptions(-1)), ConfigError);
  EXPECT_THROW(GraphSafeAdam(m->parameters(), GraphSafeAdamOptions(0.1).beta1(1.0)), ConfigError);
  EXPECT_THROW(GraphSafeSGD(m->parameters(), GraphSafeSGDOptions(0.1).momentum(-0.5)), ConfigError);
  EXPECT_THROW(GraphSafeSGD({}, GraphSafeSGDOptions(0.1)), Error);
}

TEST(CapturedStep, RunsEagerlyOnCpu) {
  int calls = 0;
  CapturedStep step([&] { ++calls; }, torch::kCPU);
  for (int i = 0; i < 5; ++i) step.run();
  EXPECT_EQ(calls, 5);
  EXPECT_FALSE(step.captured());
}

// GPU: a captured Adam step with in-graph random sampling replays like eager.
TEST(CapturedStepGpu, ReplayEqualsEager) {
  REGULA_REQUIRE_CUDA();
  const torch::Device cuda(torch::kCUDA, 0);
  auto run = [&](bool capture) {
    core::seed_everything(7);
    Twins t(cuda);
    GraphSafeAdam opt(t.a->parameters(), GraphSafeAdamOptions(0.01));
    auto static_x = t.x.clone();
    CapturedStep step(
        [&] {
          opt.zero_grad();
          const auto noise = torch::randn_like(static_x) * 0.01;  // fresh points every step
          (t.a->forward(static_x + noise) - t.y).pow(2).mean().backward();
          opt.step();
        },
        cuda, capture);
    for (int i = 0; i < 20; ++i) step.run();
    EXPECT_EQ(step.captured(), capture);
    return t.a->weight.detach().cpu();
  };
  const auto eager = run(false), replayed = run(true);
  EXPECT_TRUE(torch::allclose(eager, replayed, 1e-10, 1e-10));
}
