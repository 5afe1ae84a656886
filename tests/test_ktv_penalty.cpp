// The k-TV estimate: unbiasedness against quadrature, coordinate subsampling, domains,
// engine selection and option validation.
#include <cmath>

#include <ATen/Parallel.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/container/sequential.h>

#include "core/config.h"
#include "core/errors.h"
#include "models/activations.h"
#include "models/mlp.h"
#include "regularizers/ktv.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using namespace regularizers;
using testutil::RegulaTest;
class KTVPenaltyTest : public RegulaTest {};

models::Model mlp64(std::vector<int64_t> widths, const std::string& act = "tanh") {
  models::MLP mlp(models::MLPOptions(std::move(widths)).activation(act));
  mlp->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : mlp->parameters()) p.normal_(0.0, 0.8);
  return models::as_model(mlp);
}

// Composite Simpson weights on n (odd) equally spaced nodes of [lo, hi].
torch::Tensor simpson(double lo, double hi, int64_t n) {
  auto w = torch::ones({n}, torch::kFloat64);
  for (int64_t i = 1; i + 1 < n; ++i) w[i] = (i % 2) ? 4.0 : 2.0;
  return w * ((hi - lo) / (n - 1) / 3.0);
}

// Mean and standard error of `draws` independent penalty() values.
std::pair<double, double> monte_carlo(KTV& ktv, const models::Model& model, int draws) {
  std::vector<double> v;
  for (int r = 0; r < draws; ++r) v.push_back(ktv.penalty(model).item<double>());
  const auto t = torch::tensor(v, torch::kFloat64);
  return {t.mean().item<double>(), t.std().item<double>() / std::sqrt(static_cast<double>(draws))};
}

TEST_F(KTVPenaltyTest, MonteCarloMatchesQuadratureIn1D) {
  auto model = mlp64({1, 8, 1});
  const double lo = -1.5, hi = 2.0;
  const int64_t n = 4001;
  const auto x = torch::linspace(lo, hi, n, torch::kFloat64).view({n, 1});
  const auto D = pure_partials_taylor(taylor_plan(model), x, torch::zeros({1}, torch::kInt64), 2);
  const double integral = (D.view({n}).square() * simpson(lo, hi, n)).sum().item<double>();
  KTV ktv(KTVOptions(2).power(2).weight(1.0).samples(64).domain(lo, hi));
  const auto [mean, se] = monte_carlo(ktv, model, 400);
  EXPECT_GT(integral, 1e-3);
  EXPECT_LT(std::abs(mean - integral), 4.0 * se) << "mean " << mean << " quadrature " << integral << " se " << se;
  EXPECT_LT(se, 0.2 * integral);  // the comparison has teeth
}

TEST_F(KTVPenaltyTest, MonteCarloMatchesQuadratureIn2DWithTwoOutputs) {
  auto model = mlp64({2, 6, 6, 2}, "sigmoid");
  const std::vector<double> lo = {0.0, -1.0}, hi = {2.0, 0.5};
  const int64_t n = 201;
  const auto g0 = torch::linspace(lo[0], hi[0], n, torch::kFloat64), g1 = torch::linspace(lo[1], hi[1], n, torch::kFloat64);
  const auto grid = torch::stack(torch::meshgrid({g0, g1}, "ij"), -1).view({n * n, 2});
  const auto w = torch::outer(simpson(lo[0], hi[0], n), simpson(lo[1], hi[1], n)).view({n * n});
  const double q = 1.5;
  const auto D = pure_partials_taylor(taylor_plan(model), grid, torch::tensor({0, 1}, torch::kInt64), 3);
  const double integral = (D.abs().pow(q).sum({1, 2}) * w).sum().item<double>();
  KTV ktv(KTVOptions(3).power(q).weight(1.0).samples(128).domain(lo, hi));
  const auto [mean, se] = monte_carlo(ktv, model, 300);
  EXPECT_LT(std::abs(mean - integral), 4.0 * se) << "mean " << mean << " quadrature " << integral << " se " << se;
  EXPECT_LT(se, 0.2 * integral);
}

TEST_F(KTVPenaltyTest, CoordinateSubsamplingIsUnbiased) {
  auto model = mlp64({5, 8, 1});
  const Box box{{0, 0, 0, 0, 0}, {1, 2, 1, 1, 3}};
  const auto z = torch::rand({32, 5}, torch::kFloat64);
  const auto opts = KTVOptions(2).weight(1.0);
  const double full = ktv_penalty(model, z, box, opts).item<double>();
  std::vector<double> v;
  for (int r = 0; r < 3000; ++r) {
    v.push_back(ktv_penalty(model, z, box, opts, sample_coordinates(5, 2, torch::kCPU)).item<double>());
  }
  const auto t = torch::tensor(v, torch::kFloat64);
  const double mean = t.mean().item<double>(), se = t.std().item<double>() / std::sqrt(3000.0);
  EXPECT_GT(t.std().item<double>(), 0.0);  // draws differ
  EXPECT_LT(std::abs(mean - full), 4.0 * se) << mean << " vs " << full;
  // Every draw is d/|S| times the sum over two distinct coordinates.
  const auto c = sample_coordinates(5, 2, torch::kCPU);
  EXPECT_EQ(c.size(0), 2);
  EXPECT_NE(c[0].item<int64_t>(), c[1].item<int64_t>());
  EXPECT_EQ(sample_coordinates(5, 0, torch::kCPU).size(0), 5);
}

struct TwoLayer : torch::nn::Module {
  TwoLayer() : a(register_module("a", torch::nn::Linear(2, 5))), b(register_module("b", torch::nn::Linear(5, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) { return b->forward(torch::tanh(a->forward(x))); }
  torch::nn::Linear a, b;
};

TEST_F(KTVPenaltyTest, NonMLPModelFallsBackToAutogradWithTheSameAnswer) {
  auto net = std::make_shared<TwoLayer>();
  net->to(torch::kFloat64);
  auto custom = models::as_model(net, "two_layer");
  KTV ktv(KTVOptions(2).weight(1.0).domain(0.0, 1.0));
  ktv.setup(custom, {});
  EXPECT_EQ(ktv.engine(), Engine::kAutograd);
  EXPECT_NE(ktv.engine_reason().find("two_layer"), std::string::npos) << ktv.engine_reason();
  // The same function as a Sequential goes through Taylor mode and gives the same penalty.
  torch::nn::Sequential seq(net->a, torch::nn::Tanh(), net->b);
  auto same = models::as_model(seq, "seq");
  KTV fast(KTVOptions(2).weight(1.0).domain(0.0, 1.0));
  fast.setup(same, {});
  EXPECT_EQ(fast.engine(), Engine::kTaylor);
  const auto z = torch::rand({10, 2}, torch::kFloat64);
  const Box box{{0, 0}, {1, 1}};
  EXPECT_NEAR(ktv_penalty(custom, z, box, KTVOptions(2).weight(1.0)).item<double>(),
              ktv_penalty(same, z, box, KTVOptions(2).weight(1.0).engine(Engine::kTaylor)).item<double>(), 1e-12);
  // A Sequential whose Model.forward is something else is not trusted to Taylor mode.
  auto scaled = same;
  scaled.forward = [seq](const torch::Tensor& x) mutable { return 2.0 * seq->forward(x); };
  KTV checked(KTVOptions(2).domain(0.0, 1.0));
  checked.setup(scaled, {});
  EXPECT_EQ(checked.engine(), Engine::kAutograd);
  // Forcing Taylor mode on an unsupported model is a ConfigError naming the engine.
  KTV forced(KTVOptions(2).domain(0.0, 1.0).engine(Engine::kTaylor));
  EXPECT_THROW(forced.setup(custom, {}), ConfigError);
}

TEST_F(KTVPenaltyTest, DomainFromDataWithPadding) {
  auto model = mlp64({2, 4, 1});
  const auto inputs = torch::stack({torch::linspace(1.0, 3.0, 50, torch::kFloat64),
                                    torch::linspace(-2.0, 0.0, 50, torch::kFloat64)}, 1);
  KTV ktv(KTVOptions(1).domain_from_data(0.25).samples(500));
  ktv.setup(model, inputs);
  EXPECT_DOUBLE_EQ(ktv.box().low[0], 0.5);
  EXPECT_DOUBLE_EQ(ktv.box().high[0], 3.5);
  EXPECT_DOUBLE_EQ(ktv.box().low[1], -2.5);
  EXPECT_DOUBLE_EQ(ktv.box().high[1], 0.5);
  EXPECT_DOUBLE_EQ(ktv.box().volume(), 9.0);
  const auto z = ktv.sample_points(torch::TensorOptions().dtype(torch::kFloat64));
  EXPECT_EQ(z.sizes(), (std::vector<int64_t>{500, 2}));
  EXPECT_GE(z.select(1, 0).min().item<double>(), 0.5);
  EXPECT_LE(z.select(1, 0).max().item<double>(), 3.5);
  EXPECT_GE(z.select(1, 1).min().item<double>(), -2.5);
  EXPECT_LE(z.select(1, 1).max().item<double>(), 0.5);
  EXPECT_LT(z.select(1, 0).min().item<double>(), 0.7);  // spread over the padded box
  const auto p = ktv.penalty(model);
  EXPECT_EQ(p.dim(), 0);
  EXPECT_TRUE(p.requires_grad());
  // A flat coordinate has no volume: a DataError, not a silent zero penalty.
  KTV flat(KTVOptions(1));
  EXPECT_THROW(flat.setup(model, torch::ones({10, 2}, torch::kFloat64)), DataError);
  KTV no_setup(KTVOptions(1));
  EXPECT_THROW(no_setup.penalty(model), Error);
  // Inputs with another number of columns than the model takes.
  KTV wrong_width(KTVOptions(1));
  EXPECT_THROW(wrong_width.setup(model, torch::rand({10, 3}, torch::kFloat64)), DataError);
}

void expect_config_error(const std::string& yaml, const std::string& key) {
  auto cfg = core::Config::from_string(yaml, "<test>");
  try {
    make_regularizer(cfg.root().section("reg"));
    FAIL() << "accepted: " << yaml;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST_F(KTVPenaltyTest, BadOptionsAreConfigErrorsNamingTheKey) {
  expect_config_error("reg: {kind: ktv, order: 0}", "reg.order");
  expect_config_error("reg: {kind: ktv, power: 0.5}", "reg.power");
  expect_config_error("reg: {kind: ktv, samples: 0}", "reg.samples");
  expect_config_error("reg: {kind: ktv, weight: -1}", "reg.weight");
  expect_config_error("reg: {kind: ktv, domain: [1, 0]}", "reg.domain");
  expect_config_error("reg: {kind: ktv, domain: [[0, 1], [2, 2]]}", "reg.domain");
  expect_config_error("reg: {kind: ktv, domain: everywhere}", "reg.domain");
  expect_config_error("reg: {kind: ktv, domain: [0, 1, 2]}", "reg.domain");
  expect_config_error("reg: {kind: ktv, engine: fast}", "reg.engine");
  expect_config_error("reg: {kind: ktv, coordinates: -1}", "reg.coordinates");
  expect_config_error("reg: {kind: ktv, order: 2, engine: reverse}", "reg.engine");  // first order only
  auto expect_cpp = [](const KTVOptions& o, const std::string& key) {
    try {
      KTV ktv(o);
      FAIL() << key;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + key + "'"), std::string::npos) << e.what();
    }
  };
  expect_cpp(KTVOptions(0), "order");
  expect_cpp(KTVOptions(2).power(0.9), "power");
  expect_cpp(KTVOptions(2).samples(0), "samples");
  expect_cpp(KTVOptions(2).domain({0, 0}, {1}), "domain");
  expect_cpp(KTVOptions(2).domain(1.0, 1.0), "domain");
  expect_cpp(KTVOptions(3).engine(Engine::kReverse), "engine");
  // A box that does not fit the model's inputs is caught at setup.
  KTV wrong(KTVOptions(2).domain({0, 0, 0}, {1, 1, 1}));
  EXPECT_THROW(wrong.setup(mlp64({2, 3, 1}), {}), ConfigError);
}

TEST_F(KTVPenaltyTest, YamlDomainForms) {
  auto cfg = core::Config::from_string(
      "a: {kind: ktv, order: 3, power: 1, weight: 0.5, samples: 10, domain: [[0, 6.28], [-1, 1]], engine: autograd}\n"
      "b: {kind: ktv, domain: [0, 2]}\n"
      "c: {kind: ktv, domain: data, padding: 0.1, coordinates: 1}\n"
      "r: {kind: ktv, order: 1, domain: [0, 1], engine: reverse}\n", "<test>");
  auto a = std::dynamic_pointer_cast<KTV>(make_regularizer(cfg.root().section("a")));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->options().order(), 3);
  EXPECT_EQ(a->options().power(), 1.0);
  EXPECT_EQ(a->options().samples(), 10);
  EXPECT_EQ(a->options().engine(), Engine::kAutograd);
  EXPECT_EQ(a->options().low(), (std::vector<double>{0, -1}));
  EXPECT_EQ(a->options().high(), (std::vector<double>{6.28, 1}));
  auto b = std::dynamic_pointer_cast<KTV>(make_regularizer(cfg.root().section("b")));
  auto model = mlp64({3, 4, 1});
  b->setup(model, {});
  EXPECT_EQ(b->box().dim(), 3);  // [lo, hi] applies to every input coordinate
  EXPECT_DOUBLE_EQ(b->box().volume(), 8.0);
  auto c = std::dynamic_pointer_cast<KTV>(make_regularizer(cfg.root().section("c")));
  EXPECT_TRUE(c->options().uses_data_domain());
  EXPECT_DOUBLE_EQ(c->options().padding(), 0.1);
  EXPECT_EQ(c->options().coordinates(), 1);
  auto r = std::dynamic_pointer_cast<KTV>(make_regularizer(cfg.root().section("r")));
  EXPECT_EQ(r->options().engine(), Engine::kReverse);
  cfg.finish();
}

// The fused CPU pass (ktv_fused) equals the unfused Taylor engine followed by
// ktv_from_partials, in value and in every parameter gradient (float64), for every order the
// fused kernels take, several powers, coordinate subsets, outputs, activations, a Linear without
// bias, point counts that do not fill the last chunk, and one or two threads.
TEST_F(KTVPenaltyTest, FusedPassEqualsTheUnfusedTaylorEngineInValueAndGradients) {
  struct Case {
    std::vector<int64_t> widths;
    std::string act;
    int64_t order, points;
    double power;
    std::vector<int64_t> coords;
    bool bias;
    // The layer sequence: an MLP (Linear, activation, ..., Linear), or with two adjacent Linears
    // at the start, with an activation after the last Linear, or with one before the first.
    enum Layout { kMlp, kAdjacentLinears, kEndsInActivation, kStartsWithActivation } layout = kMlp;
  };
  const std::vector<Case> cases = {
      {{2, 9, 7, 1}, "sigmoid", 1, 100, 2.0, {0, 1}, true},   {{2, 9, 7, 1}, "tanh", 2, 257, 2.0, {1, 0}, true},
      {{3, 8, 6, 2}, "tanh", 1, 300, 1.5, {2, 0}, true},       {{3, 8, 1}, "softplus", 1, 7, 1.0, {1}, false},
      {{3, 8, 8, 2}, "softplus", 3, 41, 1.0, {2}, true},      {{3, 8, 8, 2}, "gelu", 4, 130, 1.5, {0, 2}, false},
      {{1, 6, 1}, "sin", 6, 75, 2.0, {0}, true},               {{2, 5, 5, 1}, "silu", 15, 9, 2.0, {0, 1}, true},
      {{2, 6, 5, 1}, "tanh", 1, 60, 2.0, {1, 1}, true, Case::kAdjacentLinears},  // duplicate coordinates
      {{2, 6, 5, 1}, "tanh", 3, 60, 2.0, {0, 1}, true, Case::kAdjacentLinears},
      {{2, 6, 5, 2}, "sigmoid", 1, 33, 2.0, {0, 1}, true, Case::kEndsInActivation},
      {{2, 6, 5, 2}, "sigmoid", 2, 33, 2.0, {1}, true, Case::kEndsInActivation},
      {{2, 6, 5, 1}, "softplus", 1, 50, 2.0, {0, 1}, true, Case::kStartsWithActivation},
      {{2, 6, 5, 1}, "relu", 1, 90, 2.0, {0, 1}, true},         {{2, 6, 5, 1}, "relu", 2, 90, 2.0, {0, 1}, true},
  };
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    for (const auto& c : cases) {
      torch::nn::Sequential seq;
      if (c.layout == Case::kStartsWithActivation) seq->push_back(models::make_activation(c.act));
      for (std::size_t i = 0; i + 1 < c.widths.size(); ++i) {
        seq->push_back(torch::nn::Linear(torch::nn::LinearOptions(c.widths[i], c.widths[i + 1]).bias(c.bias || i > 0)));
        const bool last = i + 2 == c.widths.size();
        if ((!last && !(c.layout == Case::kAdjacentLinears && i == 0)) || (last && c.layout == Case::kEndsInActivation))
          seq->push_back(models::make_activation(c.act));
      }
      seq->to(torch::kFloat64);
      {
        torch::NoGradGuard no_grad;
        for (auto& p : seq->parameters()) p.normal_(0.0, 0.7);
      }
      const auto model = models::as_model(seq, "seq");
      const auto plan = taylor_plan(model);
      ASSERT_TRUE(plan.supported()) << plan.unsupported;
      // Points as a transposed view (not contiguous) for half the cases.
      const auto z = c.points % 2 ? torch::rand({c.points, c.widths[0]}, torch::kFloat64) * 2 - 1
                                  : (torch::rand({c.widths[0], c.points}, torch::kFloat64) * 2 - 1).t();
      const auto coords = torch::tensor(c.coords, torch::kInt64);
      const double scale = 0.37;
      for (auto engine : {Engine::kTaylor, Engine::kReverse}) {
        if (engine == Engine::kReverse && c.order != 1) {
          EXPECT_FALSE(ktv_fused(plan, z, coords, c.order, c.power, 1.0, engine).defined());
          continue;
        }
        const auto fused = ktv_fused(plan, z, coords, c.order, c.power, scale, engine);
        ASSERT_TRUE(fused.defined()) << c.act << " k=" << c.order;
        // The reference: scale * mean_m sum_{s,o} |D|^q of the unfused engine.
        const auto D = engine == Engine::kTaylor ? pure_partials_taylor(plan, z, coords, c.order)
                                                 : pure_partials_reverse(plan, z, coords, c.order);
        const auto want = ktv_from_partials(D, c.coords.size(), scale, c.power, 1.0);
        const std::string what = c.act + " k=" + std::to_string(c.order) + " threads=" + std::to_string(threads) +
                                 " " + engine_name(engine);
        EXPECT_NEAR(fused.item<double>(), want.item<double>(), 1e-11 * std::abs(want.item<double>())) << what;
        const auto params = seq->parameters();
        const auto g = torch::autograd::grad({fused * 3.0}, params, {}, /*retain_graph=*/true, false,
                                             /*allow_unused=*/true);
        const auto h = torch::autograd::grad({want * 3.0}, params, {}, true, false, true);
        for (std::size_t i = 0; i < params.size(); ++i) {
          // The reverse engine leaves the last bias out of the graph (undefined): it does not move a derivative.
          const auto hi = h[i].defined() ? h[i] : torch::zeros_like(params[i]);
          ASSERT_TRUE(g[i].defined()) << what << " parameter " << i;
          EXPECT_LE((g[i] - hi).abs().max().item<double>(), 1e-10 * (1 + hi.abs().max().item<double>()))
              << what << " parameter " << i;
        }
      }
    }
  }
  at::set_num_threads(1);
  // Where it does not apply it says so with an undefined tensor: points that need a gradient,
  // float16, a coordinate out of range, order 16.
  const auto model = mlp64({2, 4, 1});
  const auto plan = taylor_plan(model);
  const auto z = torch::rand({8, 2}, torch::kFloat64), c = torch::tensor({0, 1}, torch::kInt64);
  EXPECT_FALSE(ktv_fused(plan, z.clone().requires_grad_(), c, 2, 2.0, 1.0).defined());
  EXPECT_FALSE(ktv_fused(plan, z, torch::tensor({0, 2}, torch::kInt64), 2, 2.0, 1.0).defined());
  EXPECT_FALSE(ktv_fused(plan, z, c, 16, 2.0, 1.0).defined());
  EXPECT_TRUE(ktv_fused(plan, z, c, 15, 2.0, 1.0).defined());
  // Under no_grad it computes the value alone, and a backward through that value is an error.
  torch::Tensor v;
  {
    torch::NoGradGuard no_grad;
    v = ktv_fused(plan, z, c, 2, 2.0, 1.0);
  }
  EXPECT_FALSE(v.requires_grad());
  {  // with grad mode on, a backward that builds a graph is refused (first order only)
    const auto w = ktv_fused(plan, z, c, 2, 2.0, 1.0);
    EXPECT_THROW(torch::autograd::grad({w}, model.module->parameters(), {}, true, /*create_graph=*/true), c10::Error);
  }
  // The penalty through KTV takes the fused pass: it equals the reference at the same points.
  KTV ktv(KTVOptions(2).samples(16).domain(-1.0, 1.0).weight(0.5).engine(Engine::kTaylor));
  ktv.setup(model, {});
  const auto pts = torch::rand({16, 2}, torch::kFloat64) * 2 - 1;
  const auto direct = ktv_penalty(model, pts, Box{{-1.0}, {1.0}}.broadcast(2), ktv.options());
  const auto ref = ktv_from_partials(pure_partials_taylor(plan, pts, c, 2), 2, 4.0, 2.0, 0.5);
  EXPECT_NEAR(direct.item<double>(), ref.item<double>(), 1e-12 * ref.item<double>());
  EXPECT_NE(direct.grad_fn(), nullptr);
  EXPECT_NE(direct.grad_fn()->name().find("FusedKTV"), std::string::npos) << direct.grad_fn()->name();
}

}  // namespace
}  // namespace regula
