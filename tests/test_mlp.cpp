// MLP construction, activations, init schemes and the Model wrapper.
#include <cmath>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>

#include "core/errors.h"
#include "models/activations.h"
#include "models/mlp.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using models::MLP;
using models::MLPOptions;
using testutil::RegulaTest;

class MLPTest : public RegulaTest {};

TEST_F(MLPTest, LayersAlternateLinearAndActivation) {
  MLP mlp(MLPOptions({3, 7, 5, 2}).activation("sigmoid"));
  auto& seq = mlp->layers();
  ASSERT_EQ(seq->size(), 5u);
  EXPECT_TRUE(seq[0]->as<torch::nn::Linear>() != nullptr);
  EXPECT_TRUE(seq[1]->as<torch::nn::Sigmoid>() != nullptr);
  EXPECT_TRUE(seq[2]->as<torch::nn::Linear>() != nullptr);
  EXPECT_TRUE(seq[4]->as<torch::nn::Linear>() != nullptr);
  auto y = mlp->forward(torch::randn({4, 3}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{4, 2}));
  // Last layer is linear: f(x) = W3 s(W2 s(W1 x + b1) + b2) + b3, checked by hand.
  auto x = torch::randn({4, 3});
  auto l = [&](int i) { return seq[i]->as<torch::nn::Linear>(); };
  auto h = torch::sigmoid(l(0)->forward(x));
  h = torch::sigmoid(l(2)->forward(h));
  EXPECT_TRUE(torch::allclose(l(4)->forward(h), mlp->forward(x)));
}

TEST_F(MLPTest, EveryActivationComputesItsFunction) {
  const auto x = torch::linspace(-2, 2, 9, torch::kFloat64).unsqueeze(1);
  const std::map<std::string, torch::Tensor> expected = {
      {"tanh", torch::tanh(x)},          {"sigmoid", torch::sigmoid(x)},
      {"softplus", torch::log1p(torch::exp(x))}, {"sin", torch::sin(x)},
      {"silu", x * torch::sigmoid(x)},   {"gelu", 0.5 * x * (1 + torch::erf(x / std::sqrt(2.0)))},
      {"relu", torch::clamp_min(x, 0)}};
  for (const auto& name : models::activation_names()) {
    auto act = models::make_activation(name);
    auto y = act.forward(x);
    EXPECT_TRUE(torch::allclose(y, expected.at(name), 1e-12, 1e-12)) << name;
  }
}

TEST_F(MLPTest, BiasOffAndInitSchemes) {
  MLP nobias(MLPOptions({2, 4, 1}).bias(false));
  for (const auto& p : nobias->named_parameters()) EXPECT_EQ(p.key().find("bias"), std::string::npos);
  for (const auto& scheme : models::init_names()) {
    MLP mlp(MLPOptions({50, 400, 1}).init(scheme));
    auto w = mlp->layers()[0]->as<torch::nn::Linear>()->weight;
    const double sd = w.std().item<double>();
    EXPECT_GT(sd, 0.0) << scheme;
    if (scheme == "xavier_normal" || scheme == "xavier_uniform") {
      EXPECT_NEAR(sd, std::sqrt(2.0 / 450.0), 0.01) << scheme;
    }
    if (scheme == "normal") EXPECT_NEAR(sd, 1.0 / std::sqrt(50.0), 0.01);
    if (scheme != "default") EXPECT_EQ(mlp->layers()[0]->as<torch::nn::Linear>()->bias.abs().sum().item<double>(), 0.0);
  }
}

TEST_F(MLPTest, BadOptionsNameTheOption) {
  auto expect_error = [](const MLPOptions& o, const std::string& key) {
    try {
      MLP mlp(o);
      FAIL() << "no error for " << key;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  expect_error(MLPOptions({3}), "widths");
  expect_error(MLPOptions({3, 0, 1}), "widths");
  expect_error(MLPOptions({3, 1}).activation("tanhh"), "activation");
  expect_error(MLPOptions({3, 1}).init("he"), "init");
}

TEST_F(MLPTest, AsModelWrapsForwardAndParameters) {
  MLP mlp(MLPOptions({2, 3, 1}));
  auto model = models::as_model(mlp);
  EXPECT_EQ(model.name, "mlp");
  EXPECT_EQ(model.module.get(), mlp.ptr().get());
  auto x = torch::randn({5, 2});
  EXPECT_TRUE(torch::equal(model.forward(x), mlp->forward(x)));
  torch::nn::Sequential seq(torch::nn::Linear(2, 2), torch::nn::Tanh());
  auto other = models::as_model(seq, "seq");
  EXPECT_EQ(other.name, "seq");
  EXPECT_TRUE(torch::equal(other.forward(x), seq->forward(x)));
  mlp->to(torch::kFloat64);
  EXPECT_EQ(models::parameter_options(model).dtype(), torch::kFloat64);
}

}  // namespace
}  // namespace regula
