// L1/L2 parameter penalties and the regularizer registry.
#include "core/config.h"
#include "core/errors.h"
#include "models/mlp.h"
#include "regularizers/parameter_norms.h"
#include "regularizers/regularizer.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using testutil::RegulaTest;
class ParameterNormTest : public RegulaTest {};

models::Model small_model() {
  models::MLP mlp(models::MLPOptions({2, 3, 1}));
  mlp->to(torch::kFloat64);
  return models::as_model(mlp);
}

TEST_F(ParameterNormTest, L2ValueAndGradient) {
  auto model = small_model();
  regularizers::L2Penalty l2(regularizers::ParameterNormOptions().weight(0.3));
  auto value = l2.penalty(model);
  double expected = 0;
  for (const auto& p : model.module->parameters()) expected += p.square().sum().item<double>();
  EXPECT_NEAR(value.item<double>(), 0.3 * expected, 1e-12);
  value.backward();
  for (const auto& p : model.module->parameters()) EXPECT_TRUE(torch::allclose(p.grad(), 0.6 * p, 1e-12, 1e-14));
}

TEST_F(ParameterNormTest, L1ValueGradientAndBiasExclusion) {
  auto model = small_model();
  regularizers::L1Penalty l1(regularizers::ParameterNormOptions().weight(0.5).bias(false));
  auto value = l1.penalty(model);
  double expected = 0;
  for (const auto& p : model.module->named_parameters()) {
    if (p.key().find("bias") == std::string::npos) expected += p.value().abs().sum().item<double>();
  }
  EXPECT_NEAR(value.item<double>(), 0.5 * expected, 1e-12);
  value.backward();
  for (const auto& p : model.module->named_parameters()) {
    const bool bias = p.key().find("bias") != std::string::npos;
    if (bias) {
      EXPECT_FALSE(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() != 0.0);
    } else {
      EXPECT_TRUE(torch::allclose(p.value().grad(), 0.5 * torch::sign(p.value())));
    }
  }
}

TEST_F(ParameterNormTest, RegistryBuildsKindsAndRejectsUnknown) {
  auto cfg = core::Config::from_string("reg: {kind: l2, weight: 0.25}\nbad: {kind: l3}\n", "<test>");
  auto reg = regularizers::make_regularizer(cfg.root().section("reg"));
  EXPECT_EQ(reg->name(), "l2");
  EXPECT_DOUBLE_EQ(std::dynamic_pointer_cast<regularizers::L2Penalty>(reg)->options().weight(), 0.25);
  try {
    regularizers::make_regularizer(cfg.root().section("bad"));
    FAIL() << "unknown kind accepted";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("l3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("l2"), std::string::npos) << msg;  // lists the registered kinds
  }
  struct Zero : regularizers::Regularizer {
    std::string name() const override { return "zero"; }
    torch::Tensor penalty(const models::Model&) override { return torch::zeros({}); }
  };
  regularizers::register_regularizer("zero", [](core::Section) { return std::make_shared<Zero>(); });
  auto cfg2 = core::Config::from_string("reg: {kind: zero}\n", "<test>");
  EXPECT_EQ(regularizers::make_regularizer(cfg2.root().section("reg"))->name(), "zero");
  const auto kinds = regularizers::registered_regularizers();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "zero"), kinds.end());
}

TEST_F(ParameterNormTest, NegativeWeightIsAConfigError) {
  auto cfg = core::Config::from_string("reg: {kind: l1, weight: -1}\n", "<test>");
  try {
    regularizers::make_regularizer(cfg.root().section("reg"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace regula
