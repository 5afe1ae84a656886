// The derivative engines (Taylor, reverse, nested autograd): agreement, closed forms, parameter
// gradients (float64).
#include <cmath>
#include <array>

#include <torch/autograd.h>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>

#include "core/errors.h"
#include "models/activations.h"
#include "models/mlp.h"
#include "regularizers/derivatives.h"
#include "core/device.h"
#include "core/matmul.h"
#include "regularizers/ktv.h"
#include "tests/test_models.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using namespace regularizers;
using testutil::max_rel_diff;
using testutil::random_mlp;
using testutil::RegulaTest;
class KTVEngineTest : public RegulaTest {};

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

// Sequentials the MLP does not produce: a Linear without bias, two activations and two Linears in
// a row, an activation last.
torch::nn::Sequential odd_sequential() {
  torch::nn::Sequential seq(torch::nn::Linear(torch::nn::LinearOptions(3, 6).bias(false)), torch::nn::Tanh(),
                            torch::nn::Sigmoid(), torch::nn::Linear(6, 4), torch::nn::Linear(4, 2),
                            torch::nn::Softplus(torch::nn::SoftplusOptions().beta(2.0).threshold(1.0)));
  seq->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : seq->parameters()) p.normal_(0.0, 0.8);
  return seq;
}

TEST_F(KTVEngineTest, ReverseEqualsNestedAutogradForEveryActivationWidthAndOutputCount) {
  const std::vector<std::vector<int64_t>> shapes = {{3, 9, 7, 2}, {3, 5, 1}, {3, 8, 8, 8, 1}, {3, 4, 6, 5, 3, 2}};
  const std::vector<torch::Tensor> coordinate_sets = {torch::tensor({0, 1, 2}, torch::kInt64),
                                                      torch::tensor({2, 0}, torch::kInt64),
                                                      torch::tensor({1}, torch::kInt64)};
  for (bool fused : {true, false}) {  // the fused CPU kernel and the tensor path other devices take
    taylor::set_fused_cpu_kernels(fused);
    for (const auto& act : models::activation_names()) {
      for (const auto& widths : shapes) {
        auto model = random_mlp(widths, act);
        const auto plan = taylor_plan(model);
        ASSERT_TRUE(plan.supported()) << act << ": " << plan.unsupported;
        const auto z = torch::randn({7, 3}, torch::kFloat64);
        for (const auto& coords : coordinate_sets) {
          const auto r = pure_partials_reverse(plan, z, coords);
          const auto a = pure_partials_autograd(model, z, coords, 1);
          ASSERT_EQ(r.sizes(), (std::vector<int64_t>{7, coords.size(0), widths.back()}));
          EXPECT_LE(max_rel_diff(r, a), 1e-10) << act << " widths " << widths.size() << " fused " << fused;
          EXPECT_GT(a.abs().max().item<double>(), 1e-6) << act;
        }
      }
    }
  }
  taylor::set_fused_cpu_kernels(true);
  auto seq = odd_sequential();
  auto model = models::as_model(seq, "odd");
  const auto z = torch::randn({5, 3}, torch::kFloat64);
  const auto coords = torch::tensor({1, 2}, torch::kInt64);
  EXPECT_LE(max_rel_diff(pure_partials_reverse(taylor_plan(model), z, coords),
                         pure_partials_autograd(model, z, coords, 1)), 1e-10);
  EXPECT_THROW(pure_partials_reverse(taylor_plan(model), z, coords, 2), c10::Error);
}

std::vector<torch::Tensor> penalty_gradients(const models::Model& model, const torch::Tensor& z, const Box& box,
                                             const KTVOptions& opts, const torch::Tensor& coords) {
  auto params = model.module->parameters();
  const auto value = ktv_penalty(model, z, box, opts, coords);
  auto grads = torch::autograd::grad({value}, params, {}, false, false, /*allow_unused=*/true);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) grads[i] = torch::zeros_like(params[i]);  // e.g. the output bias
  }
  return grads;
}

// A Linear without bias, two activations and two Linears in a row, an activation last: Taylor mode
// (a bias-less Linear once crashed its StackLinear node) equals nested autograd, values and gradients.
TEST_F(KTVEngineTest, TaylorHandlesSequentialsTheMLPDoesNotProduce) {
  auto seq = odd_sequential();
  auto model = models::as_model(seq, "odd");
  const auto z = torch::randn({6, 3}, torch::kFloat64);
  const auto coords = torch::tensor({0, 2}, torch::kInt64);
  const Box box{{0.0, 0.0, 0.0}, {1.0, 1.0, 1.0}};
  for (int64_t k = 1; k <= 4; ++k) {
    EXPECT_LE(max_rel_diff(pure_partials_taylor(taylor_plan(model), z, coords, k),
                           pure_partials_autograd(model, z, coords, k)), 1e-10) << k;
    const auto t = penalty_gradients(model, z, box, KTVOptions(k).engine(Engine::kTaylor), coords);
    const auto a = penalty_gradients(model, z, box, KTVOptions(k).engine(Engine::kAutograd), coords);
    for (std::size_t i = 0; i < t.size(); ++i) EXPECT_LE(max_rel_diff(t[i], a[i]), 1e-10) << k << " parameter " << i;
  }
}

TEST_F(KTVEngineTest, ReversePenaltyParameterGradientsEqualNestedAutograd) {
  const Box box{{-1.0, 0.0, 0.0}, {1.0, 2.0, 1.0}};
  for (const auto& act : models::activation_names()) {
    for (const auto& widths : std::vector<std::vector<int64_t>>{{3, 8, 6, 1}, {3, 7, 7, 7, 2}}) {
      auto model = random_mlp(widths, act);
      const auto z = torch::randn({9, 3}, torch::kFloat64);
      for (const auto& coords : {torch::tensor({0, 1, 2}, torch::kInt64), torch::tensor({2, 1}, torch::kInt64)}) {
        for (double q : {1.0, 2.0}) {
          const auto opts = KTVOptions(1).power(q).weight(0.3);
          const auto r = penalty_gradients(model, z, box, KTVOptions(opts).engine(Engine::kReverse), coords);
          const auto a = penalty_gradients(model, z, box, KTVOptions(opts).engine(Engine::kAutograd), coords);
          ASSERT_EQ(r.size(), a.size());
          for (std::size_t i = 0; i < r.size(); ++i) {
            EXPECT_LE(max_rel_diff(r[i], a[i]), 1e-10) << act << " q=" << q << " parameter " << i;
          }
        }
      }
    }
  }
  auto seq = odd_sequential();
  auto model = models::as_model(seq, "odd");
  const auto z = torch::randn({6, 3}, torch::kFloat64);
  const auto coords = torch::tensor({0, 2}, torch::kInt64);
  const auto r = penalty_gradients(model, z, box, KTVOptions(1).engine(Engine::kReverse), coords);
  const auto a = penalty_gradients(model, z, box, KTVOptions(1).engine(Engine::kAutograd), coords);
  for (std::size_t i = 0; i < r.size(); ++i) EXPECT_LE(max_rel_diff(r[i], a[i]), 1e-10) << "odd, parameter " << i;
}

TEST_F(KTVEngineTest, ReverseDifferentiatesThePointsAndRefusesDoubleBackward) {
  auto model = random_mlp({2, 6, 5, 1}, "tanh");
  const auto coords = torch::tensor({0, 1}, torch::kInt64);
  auto z = torch::randn({5, 2}, torch::kFloat64).requires_grad_(true);
  const auto D = pure_partials_reverse(taylor_plan(model), z, coords);
  const auto gz = torch::autograd::grad({D.square().sum()}, {z})[0];
  // Reference: double backprop through model.forward.
  auto x = z.detach().clone().requires_grad_(true);
  const auto G = torch::autograd::grad({model.forward(x).sum()}, {x}, {}, true, true)[0];
  const auto want = torch::autograd::grad({G.square().sum()}, {x})[0];
  EXPECT_LE(max_rel_diff(gz, want), 1e-10);
  const auto value = pure_partials_reverse(taylor_plan(model), z.detach(), coords).square().sum();
  EXPECT_THROW(torch::autograd::grad({value}, model.module->parameters(), {}, true, /*create_graph=*/true), c10::Error);
}

TEST_F(KTVEngineTest, AutoPicksReverseAtOrderOneAndTaylorAbove) {
  auto model = random_mlp({2, 6, 5, 1}, "sigmoid");
  for (int64_t k : {1, 2, 3}) {
    KTV ktv(KTVOptions(k).domain(0.0, 1.0));
    ktv.setup(model, {});
    EXPECT_EQ(ktv.engine(), k == 1 ? Engine::kReverse : Engine::kTaylor) << k;
    EXPECT_NE(ktv.engine_reason().find(k == 1 ? "reverse" : "Taylor"), std::string::npos) << ktv.engine_reason();
    EXPECT_EQ(fastest_engine(taylor_plan(model), k, 2), ktv.engine());
  }
  // Many outputs and one direction: reverse mode's p-slab input gradient costs more rows.
  auto wide = random_mlp({2, 6, 5, 4}, "sigmoid");
  KTV many(KTVOptions(1).domain(0.0, 1.0).coordinates(1));
  many.setup(wide, {});
  EXPECT_EQ(many.engine(), Engine::kTaylor) << many.engine_reason();
  EXPECT_EQ(fastest_engine(taylor_plan(wide), 1, 1), Engine::kTaylor);
  EXPECT_EQ(fastest_engine(taylor_plan(wide), 1, 4), Engine::kReverse);  // 14 <= 15 rows
  KTV named(KTVOptions(1).domain(0.0, 1.0).engine(Engine::kReverse));
  named.setup(model, {});
  EXPECT_EQ(named.engine(), Engine::kReverse);
  EXPECT_EQ(parse_engine("reverse"), Engine::kReverse);
  EXPECT_EQ(engine_name(Engine::kReverse), "reverse");
  EXPECT_THROW(KTV(KTVOptions(2).engine(Engine::kReverse)), ConfigError);
  const auto z = torch::rand({8, 2}, torch::kFloat64);
  const auto coords = torch::tensor({0, 1}, torch::kInt64);
  EXPECT_LE(max_rel_diff(pure_partials(model, z, coords, 1, Engine::kAuto), pure_partials_reverse(taylor_plan(model), z, coords)), 0.0);
  EXPECT_THROW(pure_partials(model, z, coords, 2, Engine::kReverse), ConfigError);
}

TEST_F(KTVEngineTest, EveryMatmulKernelEqualsTorchMmOnEveryLayout) {
  using core::MatmulKernel;
  // Shapes around the AVX-512 kernel's 8-row tiles, 16/8-lane vectors, 3-vector slabs and
  // 512-deep blocks of k, with X row-major, transposed and strided, Y row-major and transposed.
  const std::vector<std::array<int64_t, 3>> shapes = {{1, 1, 1}, {7, 5, 3}, {37, 11, 5}, {64, 100, 100},
                                                      {100, 1030, 49}, {9, 17, 97}, {1024, 2, 100}};
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const double tol = dtype == torch::kFloat32 ? 1e-5 : 1e-13;
    for (const auto& [m, k, n] : shapes) {
      const auto X = torch::randn({m, k}, dtype), Y = torch::randn({k, n}, dtype);
      const auto Xs = torch::randn({m, 2 * k}, dtype).slice(1, 0, 2 * k, 2);  // column stride 2
      for (const auto& [a, b] : std::vector<std::pair<torch::Tensor, torch::Tensor>>{
               {X, Y}, {X.t().contiguous().t(), Y}, {X, Y.t().contiguous().t()}, {Xs, Y}}) {
        const auto want = torch::mm(a.to(torch::kFloat64), b.to(torch::kFloat64));
        for (auto kernel : {MatmulKernel::kAuto, MatmulKernel::kAvx512, MatmulKernel::kOneDnn, MatmulKernel::kTorch}) {
          core::set_matmul_kernel(kernel);
          const auto got = core::matmul(a, b);
          ASSERT_EQ(got.scalar_type(), dtype);
          EXPECT_LE(max_rel_diff(got.to(torch::kFloat64), want), tol)
              << core::matmul_kernel_name(core::resolved_matmul_kernel(dtype)) << " " << m << "x" << k << "x" << n;
        }
      }
    }
  }
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {  // batched, as the diagonal-network sweep runs it
    const auto A = torch::randn({5, 8, 37}, dtype), B = torch::randn({5, 37, 21}, dtype);
    for (auto kernel : {MatmulKernel::kAvx512, MatmulKernel::kTorch}) {
      core::set_matmul_kernel(kernel);
      for (const auto& b : {B, B.transpose(1, 2).contiguous().transpose(1, 2)}) {
        auto out = torch::empty({5, 8, 21}, dtype);
        core::bmm_out(out, A, b);
        EXPECT_LE(max_rel_diff(out.to(torch::kFloat64), torch::bmm(A.to(torch::kFloat64), B.to(torch::kFloat64))),
                  dtype == torch::kFloat32 ? 1e-5 : 1e-13);
      }
    }
  }
  core::set_matmul_kernel(MatmulKernel::kAuto);
  EXPECT_EQ(core::resolved_matmul_kernel(torch::kFloat64),
            core::cpu_has_avx512() ? MatmulKernel::kAvx512 : MatmulKernel::kTorch);
}

TEST_F(KTVEngineTest, CoreLinearEqualsLibTorchLinearWithAndWithoutBiasAndRefusesBadShapes) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const double tol = dtype == torch::kFloat32 ? 1e-5 : 1e-12;
    for (bool bias : {true, false}) {
      const auto W = torch::randn({7, 5}, dtype).requires_grad_(), b = torch::randn({7}, dtype).requires_grad_();
      const auto x = torch::randn({3, 4, 5}, dtype).requires_grad_();  // more than two dims
      const auto bb = bias ? b : torch::Tensor();
      std::vector<torch::Tensor> inputs = {x, W};
      if (bias) inputs.push_back(b);
      const auto y = core::linear(x, W, bb), want = torch::nn::functional::linear(x, W, bb);
      ASSERT_EQ(y.sizes(), want.sizes());
      EXPECT_LE(max_rel_diff(y, want), tol);
      // First and second order (create_graph) gradients equal LibTorch's.
      const auto g = torch::autograd::grad({y.sin().sum()}, inputs, {}, true, true);
      const auto h = torch::autograd::grad({want.sin().sum()}, inputs, {}, true, true);
      for (std::size_t i = 0; i < g.size(); ++i) EXPECT_LE(max_rel_diff(g[i], h[i]), tol) << "bias " << bias << " " << i;
      const auto gg = torch::autograd::grad({g[0].square().sum()}, {W});
      const auto hh = torch::autograd::grad({h[0].square().sum()}, {W});
      EXPECT_LE(max_rel_diff(gg[0], hh[0]), tol) << "bias " << bias;
    }
    {  // the bias on the first rows only (a Taylor stack's x_0), forward and bias gradient
      const auto x = torch::randn({6, 5}, dtype), W = torch::randn({7, 5}, dtype);
      const auto b = torch::randn({7}, dtype).requires_grad_();
      const auto y = core::linear(x, W, b, 2);
      auto want = torch::mm(x, W.t());
      want.narrow(0, 0, 2).add_(b.detach());
      EXPECT_LE(max_rel_diff(y.detach(), want), tol);
      const auto gb = torch::autograd::grad({y.sum()}, {b})[0];
      EXPECT_LE(max_rel_diff(gb, torch::full({7}, 2.0, dtype)), tol);
    }
    // Wrong shapes and operands are LibTorch's errors, not reads past a buffer.
    const auto W = torch::randn({7, 5}, dtype);
    EXPECT_THROW(core::linear(torch::randn({4, 3}, dtype), W, torch::Tensor()), c10::Error);
    EXPECT_THROW(core::matmul(torch::randn({4, 3}, dtype), torch::randn({2, 6}, dtype)), c10::Error);
    EXPECT_THROW(core::matmul(torch::randn({2, 4, 3}, dtype), torch::randn({3, 6}, dtype)), c10::Error);
    auto out = torch::empty({2, 4, 6}, dtype);
    EXPECT_THROW(core::bmm_out(out, torch::randn({2, 4, 3}, dtype), torch::randn({2, 2, 6}, dtype)), c10::Error);
    // An `out` that is one of the operands is left to at::bmm_out: the same outcome as LibTorch's.
    const auto A = torch::randn({2, 4, 4}, dtype), B = torch::randn({2, 4, 4}, dtype);
    auto A1 = A.clone(), A2 = A.clone();
    bool threw1 = false, threw2 = false;
    try { core::bmm_out(A1, A1, B); } catch (const c10::Error&) { threw1 = true; }
    try { at::bmm_out(A2, A2, B); } catch (const c10::Error&) { threw2 = true; }
    EXPECT_EQ(threw1, threw2);
    if (!threw1) {
      EXPECT_TRUE(torch::equal(A1, A2));
    }
  }
}

TEST_F(KTVEngineTest, ReverseAndTaylorMatchAutogradWithEveryMatmulKernel) {
  using core::MatmulKernel;
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const double tol = dtype == torch::kFloat32 ? 1.0 : 1e-6;  // float64: a millionth of float32's bounds
    auto model = random_mlp({2, 32, 32, 2}, "sigmoid");
    model.module->to(dtype);
    const auto z = torch::randn({64, 2}, dtype);
    const auto coords = torch::tensor({0, 1}, torch::kInt64);
    const Box box{{0, 0}, {1, 1}};
    const auto opts = KTVOptions(1).weight(1.0);
    const auto a = penalty_gradients(model, z, box, KTVOptions(opts).engine(Engine::kAutograd), coords);
    for (auto kernel : {MatmulKernel::kAvx512, MatmulKernel::kOneDnn, MatmulKernel::kTorch}) {
      core::set_matmul_kernel(kernel);
      const auto name = core::matmul_kernel_name(kernel);
      EXPECT_LE(max_rel_diff(pure_partials_reverse(taylor_plan(model), z, coords),
                             pure_partials_autograd(model, z, coords, 1)), 1e-5 * tol) << name;
      for (int64_t k : {1, 3}) {  // Taylor mode's Linears take the same products
        EXPECT_LE(max_rel_diff(pure_partials_taylor(taylor_plan(model), z, coords, k),
                               pure_partials_autograd(model, z, coords, k)), 1e-4 * tol) << name << " k=" << k;
        const auto t = penalty_gradients(model, z, box, KTVOptions(k).weight(1.0).engine(Engine::kTaylor), coords);
        const auto n = penalty_gradients(model, z, box, KTVOptions(k).weight(1.0).engine(Engine::kAutograd), coords);
        for (std::size_t i = 0; i < t.size(); ++i) EXPECT_LE(max_rel_diff(t[i], n[i]), 1e-3 * tol) << name << " k=" << k;
      }
      const auto r = penalty_gradients(model, z, box, KTVOptions(opts).engine(Engine::kReverse), coords);
      for (std::size_t i = 0; i < r.size(); ++i) EXPECT_LE(max_rel_diff(r[i], a[i]), 1e-4 * tol) << name << " " << i;
    }
  }
  core::set_matmul_kernel(MatmulKernel::kAuto);
}

}  // namespace
}  // namespace regula
