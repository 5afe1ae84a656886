// The two derivative engines: agreement, closed forms, parameter gradients (float64).
#include <cmath>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>

#include "models/activations.h"
#include "models/mlp.h"
#include "regularizers/derivatives.h"
#include "regularizers/ktv.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using namespace regularizers;
using testutil::RegulaTest;
class KTVEngineTest : public RegulaTest {};

models::Model random_mlp(std::vector<int64_t> widths, const std::string& act) {
  models::MLP mlp(models::MLPOptions(std::move(widths)).activation(act).init("normal"));
  mlp->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : mlp->parameters()) p.normal_(0.0, 0.7);
  return models::as_model(mlp);
}

double max_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  const double diff = (a - b).abs().max().item<double>();
  return scale == 0.0 ? diff : diff / scale;
}

TEST_F(KTVEngineTest, TaylorEqualsNestedAutogradForEveryActivationAndOrder) {
  for (const auto& act : models::activation_names()) {
    auto model = random_mlp({3, 9, 7, 2}, act);
    const auto plan = taylor_plan(model);
    ASSERT_TRUE(plan.supported()) << act << ": " << plan.unsupported;
    const auto z = torch::randn({6, 3}, torch::kFloat64);
    const auto coords = torch::tensor({2, 0, 1}, torch::kInt64);
    for (int64_t k = 1; k <= 6; ++k) {
      const auto t = pure_partials_taylor(plan, z, coords, k);
      const auto a = pure_partials_autograd(model, z, coords, k);
      ASSERT_EQ(t.sizes(), (std::vector<int64_t>{6, 3, 2}));
      ASSERT_EQ(a.sizes(), t.sizes());
      EXPECT_LE(max_rel_diff(t, a), 1e-10) << act << " k=" << k;
      if (act != "relu" || k == 1) {
        EXPECT_GT(a.abs().max().item<double>(), 1e-6) << act << " k=" << k;
      }
    }
  }
}

TEST_F(KTVEngineTest, SoftplusBetaAndThresholdMatchTorch) {
  torch::nn::Sequential seq(torch::nn::Linear(2, 6),
                            torch::nn::Softplus(torch::nn::SoftplusOptions().beta(2.0).threshold(3.0)),
                            torch::nn::Linear(6, 1));
  seq->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : seq->parameters()) p.normal_(0.0, 1.5);
  }
  auto model = models::as_model(seq, "softplus_seq");
  const auto z = 2.0 * torch::randn({40, 2}, torch::kFloat64);
  const auto coords = torch::tensor({0, 1}, torch::kInt64);
  for (int64_t k = 1; k <= 4; ++k) {
    EXPECT_LE(max_rel_diff(pure_partials_taylor(taylor_plan(model), z, coords, k),
                           pure_partials_autograd(model, z, coords, k)), 1e-10) << k;
  }
}

// tanh^(k) = P_k(tanh) with P_0 = T and P_{k+1}(T) = P_k'(T) (1 - T^2).
std::vector<std::vector<double>> tanh_derivative_polynomials(int kmax) {
  std::vector<std::vector<double>> P(kmax + 1);
  P[0] = {0.0, 1.0};
  for (int k = 0; k < kmax; ++k) {
    std::vector<double> dp(P[k].size() > 1 ? P[k].size() - 1 : 1, 0.0);
    for (std::size_t i = 1; i < P[k].size(); ++i) dp[i - 1] = static_cast<double>(i) * P[k][i];
    std::vector<double> next(dp.size() + 2, 0.0);
    for (std::size_t i = 0; i < dp.size(); ++i) {
      next[i] += dp[i];
      next[i + 2] -= dp[i];
    }
    P[k + 1] = next;
  }
  return P;
}

TEST_F(KTVEngineTest, BothEnginesMatchTheClosedFormOfAOneHiddenLayerTanhNet) {
  const int64_t L = 12;
  auto model = random_mlp({1, L, 1}, "tanh");
  auto& seq = std::dynamic_pointer_cast<models::MLPImpl>(model.module)->layers();
  const auto b = seq[0]->as<torch::nn::Linear>()->weight.detach().view({L});
  const auto c = seq[0]->as<torch::nn::Linear>()->bias.detach();
  const auto a = seq[2]->as<torch::nn::Linear>()->weight.detach().view({L});
  const auto P = tanh_derivative_polynomials(6);
  const auto x = torch::linspace(-2.0, 2.0, 17, torch::kFloat64);
  const auto coords = torch::zeros({1}, torch::kInt64);
  for (int k = 1; k <= 6; ++k) {
    // f^(k)(x) = sum_l a_l b_l^k tanh^(k)(b_l x + c_l), evaluated in plain double arithmetic.
    std::vector<double> expected;
    for (int64_t m = 0; m < x.size(0); ++m) {
      double sum = 0;
      for (int64_t l = 0; l < L; ++l) {
        const double T = std::tanh(b[l].item<double>() * x[m].item<double>() + c[l].item<double>());
        double poly = 0, Tp = 1;
        for (double coef : P[k]) poly += coef * Tp, Tp *= T;
        sum += a[l].item<double>() * std::pow(b[l].item<double>(), k) * poly;
      }
      expected.push_back(sum);
    }
    const auto want = torch::tensor(expected, torch::kFloat64).view({-1, 1, 1});
    const auto z = x.view({-1, 1});
    EXPECT_LE(max_rel_diff(pure_partials_taylor(taylor_plan(model), z, coords, k), want), 1e-10) << k;
    EXPECT_LE(max_rel_diff(pure_partials_autograd(model, z, coords, k), want), 1e-10) << k;
  }
}

double central_difference(const std::function<double()>& f, torch::Tensor p, int64_t index, double h) {
  torch::NoGradGuard no_grad;
  auto flat = p.view({-1});
  const double saved = flat[index].item<double>();
  flat[index] = saved + h;
  const double up = f();
  flat[index] = saved - h;
  const double down = f();
  flat[index] = saved;
  return (up - down) / (2 * h);
}

TEST_F(KTVEngineTest, PenaltyParameterGradientMatchesFiniteDifferences) {
  for (auto engine : {Engine::kTaylor, Engine::kAutograd}) {
    for (double q : {2.0, 1.5}) {
      auto model = random_mlp({2, 6, 5, 1}, "sigmoid");
      const Box box{{-1.0, 0.0}, {1.0, 3.0}};
      const auto opts = KTVOptions(3).power(q).weight(0.7).engine(engine);
      const auto z = torch::rand({16, 2}, torch::kFloat64) * torch::tensor({2.0, 3.0}, torch::kFloat64) +
                     torch::tensor({-1.0, 0.0}, torch::kFloat64);
      auto value = ktv_penalty(model, z, box, opts);
      value.backward();
      auto f = [&] { return ktv_penalty(model, z, box, opts).item<double>(); };
      int checked = 0;
      for (auto& p : model.module->parameters()) {
        for (int64_t i = 0; i < p.numel(); i += 3) {
          const double fd = central_difference(f, p, i, 1e-5);
          // A parameter the derivatives do not depend on (the output bias) may have no gradient.
          const double g = p.grad().defined() ? p.grad().view({-1})[i].item<double>() : 0.0;
          EXPECT_NEAR(g, fd, 1e-6 * (1.0 + std::abs(fd))) << engine_name(engine) << " q=" << q;
          ++checked;
        }
      }
      EXPECT_GT(checked, 10);
    }
  }
}

TEST_F(KTVEngineTest, PlanRejectsUnsupportedLayersWithAReason) {
  torch::nn::Sequential seq(torch::nn::Linear(2, 3), torch::nn::ELU(), torch::nn::Linear(3, 1));
  const auto plan = taylor_plan(models::as_model(seq, "elu_net"));
  EXPECT_FALSE(plan.supported());
  EXPECT_NE(plan.unsupported.find("no Taylor rule"), std::string::npos) << plan.unsupported;
  torch::nn::Sequential approx(torch::nn::Linear(2, 3), torch::nn::GELU(torch::nn::GELUOptions().approximate("tanh")));
  EXPECT_NE(taylor_plan(models::as_model(approx, "g")).unsupported.find("approximate"), std::string::npos);
}

TEST_F(KTVEngineTest, TensorPathEnginesAgreeToo) {
  taylor::set_fused_cpu_kernels(false);
  for (const auto& act : models::activation_names()) {
    auto model = random_mlp({2, 6, 5, 1}, act);
    const auto z = torch::randn({4, 2}, torch::kFloat64);
    const auto coords = torch::tensor({0, 1}, torch::kInt64);
    for (int64_t k : {1, 4}) {
      EXPECT_LE(max_rel_diff(pure_partials_taylor(taylor_plan(model), z, coords, k),
                             pure_partials_autograd(model, z, coords, k)), 1e-10) << act << " k=" << k;
    }
  }
  taylor::set_fused_cpu_kernels(true);
}

}  // namespace
}  // namespace regula
