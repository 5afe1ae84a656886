// The minibatch trainer on CUDA (skipped without a GPU): same result as on the CPU,
// k-TV training on the device, and an exact resume there too.
#include <gtest/gtest.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "models/mlp.h"
#include "regularizers/regularizer.h"
#include "tests/test_util.h"
#include "trainers/minibatch.h"

using namespace regula;
using namespace regula::trainers;
using regula::testutil::RegulaTest;

namespace {
models::Model mlp_on(const torch::Device& device) {
  core::seed_everything(0);
  auto model = models::as_model(models::MLP(models::MLPOptions({2, 32, 32, 1}).activation("tanh")));
  model.module->to(device, torch::kFloat64);
  return model;
}
Dataset checkered() {
  return make_synthetic(SyntheticOptions("checkered").grid(12).noise(0.05).n_val(50).test_points(16).seed(2));
}
}  // namespace

class TrainGpu : public RegulaTest {};

TEST_F(TrainGpu, CudaMatchesCpu) {
  REGULA_REQUIRE_CUDA();
  auto options = MinibatchOptions().steps(50).eval_every(10).optimizer(OptimizerOptions().lr(1e-3));
  auto cpu = mlp_on(torch::kCPU), gpu = mlp_on(torch::kCUDA);
  MinibatchTrainer(cpu, {}, options).fit(checkered());
  const auto result = MinibatchTrainer(gpu, {}, options).fit(checkered());
  const auto a = cpu.module->parameters(), b = gpu.module->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(a[i], b[i].cpu(), 1e-6, 1e-8)) << "parameter " << i;
  }
  EXPECT_TRUE(result.metrics.count("test_mse"));
}

TEST_F(TrainGpu, KtvTrainsAndResumesExactlyOnCuda) {
  REGULA_REQUIRE_CUDA();
  auto config = core::Config::from_string("{kind: ktv, order: 2, weight: 1e-4, samples: 64}", "<test>");
  auto options = MinibatchOptions().steps(40).batch_size(32).eval_every(10).checkpoint_every(10)
                     .checkpoint_dir(tmp()).optimizer(OptimizerOptions().lr(1e-2));
  auto a = mlp_on(torch::kCUDA);
  MinibatchTrainer ta(a, {regularizers::make_regularizer(config.root())}, options);
  const auto result = ta.fit(checkered());
  EXPECT_LT(result.metrics.at("train_mse"), 0.5);
  auto b = mlp_on(torch::kCUDA);
  MinibatchTrainer tb(b, {regularizers::make_regularizer(config.root())}, options.checkpoint_dir(tmp() / "b"));
  tb.resume_from(tmp() / "step_00000030.pt");
  tb.fit(checkered());
  const auto pa = a.module->parameters(), pb = b.module->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
}
