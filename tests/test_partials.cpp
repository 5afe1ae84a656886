// Mixed partials from Taylor mode (interpolation identities) against nested autograd and closed
// forms, float64.
#include <cmath>

#include <fmt/ranges.h>

#include <torch/autograd.h>

#include "core/errors.h"
#include "models/mlp.h"
#include "regularizers/partials.h"
#include "tests/test_models.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using namespace regularizers;
using testutil::max_rel_diff;
using testutil::random_mlp;
using testutil::RegulaTest;
class PartialsTest : public RegulaTest {};

std::string show(const MultiIndex& alpha) { return fmt::format("({})", fmt::join(alpha, ", ")); }

// Every multi-index of order <= 4 over 3 coordinates, and a few of orders 5 and 6.
std::vector<MultiIndex> many_partials() {
  std::vector<MultiIndex> out;
  for (int64_t a = 0; a <= 4; ++a)
    for (int64_t b = 0; a + b <= 4; ++b)
      for (int64_t c = 0; a + b + c <= 4; ++c) out.push_back({a, b, c});
  out.push_back({3, 2, 0});
  out.push_back({2, 2, 2});
  out.push_back({1, 4, 1});
  return out;
}

TEST_F(PartialsTest, MixedPartialsEqualNestedAutogradForEveryActivation) {
  const auto alphas = many_partials();
  const PartialsScheme scheme(alphas, 3);
  for (const std::string act : {"tanh", "sin", "gelu", "softplus", "silu", "sigmoid"}) {
    auto model = random_mlp({3, 8, 6, 2}, act);
    const auto plan = taylor_plan(model);
    ASSERT_TRUE(plan.supported()) << plan.unsupported;
    const auto z = torch::randn({5, 3}, torch::kFloat64);
    const auto t = partials_taylor(plan, z, scheme);
    const auto a = partials_autograd(model, z, alphas);
    ASSERT_EQ(t.D.sizes(), (std::vector<int64_t>{5, static_cast<int64_t>(alphas.size()), 2}));
    ASSERT_EQ(a.D.sizes(), t.D.sizes());
    EXPECT_LE(max_rel_diff(t.u, model.forward(z)), 1e-14) << act;
    for (std::size_t i = 0; i < alphas.size(); ++i) {
      const auto ti = t.D.select(1, static_cast<int64_t>(i)), ai = a.D.select(1, static_cast<int64_t>(i));
      EXPECT_LE(max_rel_diff(ti, ai), 1e-10) << act << " alpha " << show(alphas[i]);
      EXPECT_GT(ai.abs().max().item<double>(), 1e-8) << act << " alpha " << show(alphas[i]);
    }
  }
}

TEST_F(PartialsTest, ClosedFormOfAProductFunction) {
  // f(x, y) = sin(x) exp(2y): d^{a+b} f / dx^a dy^b = sin^{(a)}(x) 2^b exp(2y).
  models::Model f;
  f.name = "sin_exp";
  f.module = std::make_shared<torch::nn::Module>();
  f.forward = [](const torch::Tensor& z) { return (torch::sin(z.select(1, 0)) * torch::exp(2 * z.select(1, 1))).unsqueeze(1); };
  const std::vector<MultiIndex> alphas{{1, 1}, {2, 2}, {3, 1}, {0, 4}, {2, 0}};
  const auto z = torch::rand({7, 2}, torch::kFloat64);
  const auto D = partials(f, z, PartialsScheme(alphas, 2), Engine::kAuto).D;  // autograd: no Taylor plan
  const auto x = z.select(1, 0), y = z.select(1, 1);
  const auto sin_deriv = [&](int64_t a) {
    const std::vector<torch::Tensor> cycle{torch::sin(x), torch::cos(x), -torch::sin(x), -torch::cos(x)};
    return cycle[static_cast<std::size_t>(a % 4)];
  };
  for (std::size_t i = 0; i < alphas.size(); ++i) {
    const auto expect = sin_deriv(alphas[i][0]) * std::pow(2.0, alphas[i][1]) * torch::exp(2 * y);
    EXPECT_LE(max_rel_diff(D.select(1, static_cast<int64_t>(i)).squeeze(1), expect), 1e-13) << show(alphas[i]);
  }
}

TEST_F(PartialsTest, SchemeMergesDirectionsAndUsesPolarization) {
  // u_x, u_xx, u_xxxx share e_x; u_xy needs e_x, e_y and e_x + e_y (the polarization identity).
  const PartialsScheme pure({{1, 0}, {2, 0}, {4, 0}}, 2);
  EXPECT_EQ(pure.directions().size(0), 1);
  EXPECT_EQ(pure.order(), 4);
  const PartialsScheme mixed({{1, 1}}, 2);
  ASSERT_EQ(mixed.directions().size(0), 3);
  // u_xy = (D^2_{e_x+e_y} - D^2_{e_x} - D^2_{e_y}) / 2, and D^2 = 2 y_2: weights +1, -1, -1 on y_2.
  const auto w = mixed.weights().squeeze(0);
  EXPECT_NEAR(w.sum().item<double>(), -1.0, 1e-12);
  EXPECT_NEAR(w.abs().sum().item<double>(), 3.0, 1e-12);
  // The biharmonic's u_xxyy: the 5 lattice directions of order 4, scaled to primitive ones.
  EXPECT_EQ(PartialsScheme({{2, 2}}, 2).directions().size(0), 5);
}

TEST_F(PartialsTest, ParameterGradientsOfAMixedPartialEqualAutograd) {
  auto model = random_mlp({2, 6, 1}, "tanh");
  const auto z = torch::randn({4, 2}, torch::kFloat64);
  const std::vector<MultiIndex> alphas{{2, 2}, {1, 1}};
  const auto grads = [&](const Partials& P) {  // a PDE-residual-like loss: u and its partials
    auto params = model.module->parameters();
    return torch::autograd::grad({(P.D.sum(1) + P.u.square()).square().sum()}, params);
  };
  const auto gt = grads(partials_taylor(taylor_plan(model), z, PartialsScheme(alphas, 2)));
  const auto ga = grads(partials_autograd(model, z, alphas));
  for (std::size_t i = 0; i < gt.size(); ++i) EXPECT_LE(max_rel_diff(gt[i], ga[i]), 1e-10) << "parameter " << i;
}

TEST_F(PartialsTest, BadRequestsAreClearErrors) {
  EXPECT_THROW(PartialsScheme({{1, 0, 0}}, 2), ConfigError);
  EXPECT_THROW(PartialsScheme({{-1, 2}}, 2), ConfigError);
  auto model = random_mlp({2, 4, 1}, "tanh");
  EXPECT_THROW(partials(model, torch::rand({3, 2}, torch::kFloat64), PartialsScheme({{1, 1}}, 2), Engine::kReverse),
               ConfigError);
}

}  // namespace
}  // namespace regula
