// CUDA equals CPU for the k-TV engines (float64); skipped without a CUDA device.
#include "models/mlp.h"
#include "regularizers/derivatives.h"
#include "regularizers/ktv.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using namespace regularizers;
class KTVCudaTest : public testutil::RegulaTest {};

TEST_F(KTVCudaTest, EnginesOnCudaEqualCpu) {
  REGULA_REQUIRE_CUDA();
  for (const std::string act : {"tanh", "sigmoid", "softplus", "sin", "silu", "gelu"}) {
    models::MLP mlp(models::MLPOptions({2, 16, 16, 1}).activation(act));
    mlp->to(torch::kFloat64);
    auto cpu = models::as_model(mlp);
    const auto z = torch::rand({32, 2}, torch::kFloat64);
    const auto coords = torch::tensor({0, 1}, torch::kInt64);
    std::vector<torch::Tensor> want;
    for (int64_t k = 1; k <= 4; ++k) want.push_back(pure_partials_taylor(taylor_plan(cpu), z, coords, k));
    const double cpu_penalty = ktv_penalty(cpu, z, Box{{0, 0}, {1, 1}}, KTVOptions(3).weight(1.0)).item<double>();
    mlp->to(torch::kCUDA);
    auto gpu = models::as_model(mlp);
    const auto zg = z.cuda();
    const auto cg = coords.cuda();
    for (int64_t k = 1; k <= 4; ++k) {
      const auto t = pure_partials_taylor(taylor_plan(gpu), zg, cg, k).cpu();
      const auto a = pure_partials_autograd(gpu, zg, cg, k).cpu();
      EXPECT_TRUE(torch::allclose(t, want[k - 1], 1e-10, 1e-12)) << act << " k=" << k;
      EXPECT_TRUE(torch::allclose(a, want[k - 1], 1e-10, 1e-12)) << act << " k=" << k;
    }
    // The reverse engine takes the tensor path on CUDA.
    EXPECT_TRUE(torch::allclose(pure_partials_reverse(taylor_plan(gpu), zg, cg).cpu(), want[0], 1e-10, 1e-12)) << act;
    auto p = ktv_penalty(gpu, zg, Box{{0, 0}, {1, 1}}, KTVOptions(3).weight(1.0));
    EXPECT_TRUE(p.is_cuda());
    EXPECT_NEAR(p.item<double>(), cpu_penalty, 1e-10 * std::abs(cpu_penalty));
    p.backward();
    for (const auto& param : mlp->parameters()) EXPECT_TRUE(param.grad().defined());
  }
}

TEST_F(KTVCudaTest, RegularizerSamplesOnTheModelDevice) {
  REGULA_REQUIRE_CUDA();
  models::MLP mlp(models::MLPOptions({2, 8, 1}).activation("sigmoid"));
  mlp->to(torch::kCUDA);
  auto model = models::as_model(mlp);
  KTV ktv(KTVOptions(2).samples(64).domain(0.0, 6.28).coordinates(1));
  ktv.setup(model, {});
  EXPECT_EQ(ktv.engine(), Engine::kTaylor);
  const auto p = ktv.penalty(model);
  EXPECT_TRUE(p.is_cuda());
  EXPECT_EQ(p.dim(), 0);
}

}  // namespace
}  // namespace regula
