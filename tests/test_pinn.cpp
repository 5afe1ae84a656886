// Physics-informed training: every shipped PDE's solution has a zero residual and meets its
// conditions, Taylor-mode residuals equal nested autograd (float64), the Laplacian estimate is
// unbiased, a small Poisson problem trains below a stated error, resume is exact, bad input fails
// with one clear error, and a user's registered PDE runs from YAML.
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/config.h"
#include "core/errors.h"
#include "models/mlp.h"
#include "trainers/experiment.h"
#include "trainers/pinn/physics_loss.h"
#include "trainers/pinn/pinn_job.h"
#include "tests/test_models.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using namespace pinn;
using regularizers::Engine;
using testutil::RegulaTest;
class PinnTest : public RegulaTest {};

Pde pde_of(const std::string& yaml) {
  auto config = core::Config::from_string(yaml, "test");
  return make_pde(config.root());
}

// Uniform points of the PDE's domain, float64.
torch::Tensor points_in(const Pde& pde, int64_t n) {
  return regularizers::BoxSampler(pde.domain).uniform(n, torch::TensorOptions().dtype(torch::kFloat64));
}

models::Model random_mlp(int64_t d, const std::string& act = "tanh") {
  return testutil::random_mlp({d, 12, 10, 1}, act, 0.6);
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::vector<std::string> kShipped{"poisson2d", "heat", "burgers", "kdv", "beam", "biharmonic2d", "poisson_nd"};

TEST_F(PinnTest, EveryShippedPdeIsRegistered) {
  const auto kinds = registered_pdes();
  for (const auto& k : kShipped) EXPECT_NE(std::find(kinds.begin(), kinds.end(), k), kinds.end()) << k;
}

TEST_F(PinnTest, TheSolutionOfEveryShippedPdeHasZeroResidualAndMeetsItsConditions) {
  for (const auto& kind : kShipped) {
    const auto pde = pde_of(kind == "poisson_nd" ? "kind: poisson_nd\ndim: 12" : "kind: " + kind);
    const auto exact = solution_model(pde);
    const auto x = points_in(pde, 64);
    const auto r = pde_residual(pde, exact, x, Engine::kAutograd);
    ASSERT_EQ(r.sizes(), (std::vector<int64_t>{64, 1})) << kind;
    EXPECT_LE(r.abs().max().item<double>(), 1e-9) << kind;
    // ... and the residual of something else is not (the check can fail).
    const auto wrong = pde_residual(pde, random_mlp(pde.dim()), x, Engine::kAutograd);
    EXPECT_GT(wrong.abs().max().item<double>(), 1e-3) << kind;
    for (const auto& c : pde.conditions) {
      regularizers::BoxSampler sampler(pde.domain);
      const auto y = sampler.on_faces(c.faces, 32, torch::TensorOptions().dtype(torch::kFloat64));
      EXPECT_LE(condition_misfit(pde, c, exact, y).abs().max().item<double>(), 1e-9) << kind << " " << c.name;
    }
  }
}

TEST_F(PinnTest, TaylorResidualsEqualNestedAutogradForEveryShippedPde) {
  for (const auto& kind : kShipped) {
    const auto pde = pde_of(kind == "poisson_nd" ? "kind: poisson_nd\ndim: 12" : "kind: " + kind);
    for (const std::string act : {"tanh", "sin"}) {
      const auto model = random_mlp(pde.dim(), act);
      const auto x = points_in(pde, 16);
      const auto t = pde_residual(pde, model, x, Engine::kTaylor), a = pde_residual(pde, model, x, Engine::kAutograd);
      const double scale = a.abs().max().item<double>();
      EXPECT_LE((t - a).abs().max().item<double>(), 1e-10 * std::max(1.0, scale)) << kind << " " << act;
      for (const auto& c : pde.conditions) {
        regularizers::BoxSampler sampler(pde.domain);
        const auto y = sampler.on_faces(c.faces, 8, torch::TensorOptions().dtype(torch::kFloat64));
        const auto mt = condition_misfit(pde, c, model, y, Engine::kTaylor);
        const auto ma = condition_misfit(pde, c, model, y, Engine::kAutograd);
        EXPECT_LE((mt - ma).abs().max().item<double>(), 1e-10) << kind << " " << c.name;
      }
    }
  }
}

TEST_F(PinnTest, FacePointsLieOnTheirFacesInProportionToTheirMeasure) {
  regularizers::BoxSampler sampler({{0, 0}, {4, 1}});  // the faces x = 0, 4 measure 1; y = 0, 1 measure 4
  const auto y = sampler.on_faces(faces_of({0, 1}), 20000, torch::TensorOptions().dtype(torch::kFloat64));
  const auto on_x = (y.select(1, 0) == 0) | (y.select(1, 0) == 4), on_y = (y.select(1, 1) == 0) | (y.select(1, 1) == 1);
  EXPECT_TRUE((on_x | on_y).all().item<bool>());
  EXPECT_NEAR(on_y.to(torch::kFloat64).mean().item<double>(), 0.8, 0.02);
}

TEST_F(PinnTest, SubsampledLaplacianIsUnbiased) {
  const auto pde = pde_of("kind: poisson_nd\ndim: 20");
  const auto model = random_mlp(20);
  const auto x = points_in(pde, 4);
  const regularizers::PartialsScheme none({}, 20);
  const auto full = pde_fields(pde, model, x, none, Engine::kTaylor).laplacian();
  torch::Tensor sum = torch::zeros_like(full);
  const int draws = 400;
  for (int i = 0; i < draws; ++i) {
    const auto coords = regularizers::sample_coordinates(20, 5, x.device());
    sum += pde_fields(pde, model, x, none, Engine::kTaylor, coords).laplacian();
  }
  // The mean of 400 draws is within a few standard errors of the full Laplacian.
  const double err = (sum / draws - full).abs().max().item<double>();
  EXPECT_LE(err, 0.1 * full.abs().max().item<double>() + 1e-6) << err;
  const auto one = pde_fields(pde, model, x, none, Engine::kTaylor, regularizers::sample_coordinates(20, 5, x.device()));
  EXPECT_GT((one.laplacian() - full).abs().max().item<double>(), 1e-8);  // a single draw is an estimate
}

TEST_F(PinnTest, EngineFallsBackToAutogradForModelsTaylorModeCannotRead) {
  const auto pde = pde_of("kind: heat");
  models::Model custom;
  custom.name = "closed_form";
  custom.module = std::make_shared<torch::nn::Module>();
  auto w = custom.module->register_parameter("w", torch::ones({1}, torch::kFloat64));
  custom.forward = [w](const torch::Tensor& x) { return (w * x.select(1, 0) * x.select(1, 1)).unsqueeze(1); };
  PhysicsLoss loss(pde, PhysicsOptions().collocation(8).boundary(4));
  loss.setup(custom, {});
  EXPECT_EQ(loss.engine(), Engine::kAutograd);
  EXPECT_NE(loss.engine_reason().find("closed_form"), std::string::npos) << loss.engine_reason();
  EXPECT_TRUE(loss.penalty(custom).requires_grad());
  EXPECT_THROW(PhysicsLoss(pde, PhysicsOptions().engine(Engine::kTaylor)).setup(custom, {}), ConfigError);
  const auto mlp = random_mlp(2);
  PhysicsLoss taylor(pde, PhysicsOptions());
  taylor.setup(mlp, {});
  EXPECT_EQ(taylor.engine(), Engine::kTaylor);
  const auto terms = (taylor.penalty(mlp), taylor.last_terms());
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_EQ(terms[0].first, "loss_residual");
  EXPECT_EQ(terms[2].first, "loss_initial");
}

trainers::ExperimentSpec pinn_spec(const std::string& yaml, const std::filesystem::path& out) {
  trainers::ExperimentSpec spec;
  spec.yaml_text = yaml;
  spec.origin = "test";
  spec.runs_root = out;
  spec.read_job = read_pinn_job;
  spec.kind = "pinn";
  return spec;
}

const char* const kSmallPoisson = R"yaml(
name: small_poisson
device: cpu
dtype: float32
seed: 0
pde: {kind: poisson2d}
model: {kind: mlp, hidden: [32, 32], activation: tanh, init: xavier_normal}
physics: {collocation: 256, boundary: 128, weights: {boundary: 10}, test_grid: 41}
train:
  steps: 1500
  eval_every: 100
  optimizer: {kind: adam, lr: 0.003}
  schedule: {kind: cosine, min_lr: 0.0001}
)yaml";

TEST_F(PinnTest, SmallPoissonProblemTrainsBelowTenPercentRelativeError) {
  const auto report = trainers::run_experiment(pinn_spec(kSmallPoisson, tmp()));
  ASSERT_EQ(report.runs.size(), 1u);
  const auto& m = report.runs[0].outcome.metrics;
  ASSERT_TRUE(m.count("test_rel_l2"));
  EXPECT_LT(m.at("test_rel_l2"), 0.1) << report.table;
  // The loss terms were logged, and the error kept falling after the first evaluation.
  const auto metrics = read_text(report.dir / "metrics.csv");
  const auto header = metrics.substr(0, metrics.find('\n'));
  std::vector<std::string> names, first;
  std::stringstream hs(header), fs_(metrics.substr(header.size() + 1, metrics.find('\n', header.size() + 1) - header.size() - 1));
  for (std::string c; std::getline(hs, c, ',');) names.push_back(c);
  for (std::string c; std::getline(fs_, c, ',');) first.push_back(c);
  const auto col = std::find(names.begin(), names.end(), "test_rel_l2") - names.begin();
  ASSERT_LT(static_cast<std::size_t>(col), first.size());
  EXPECT_GT(std::stod(first[static_cast<std::size_t>(col)]), 2 * m.at("test_rel_l2"));
  for (const char* col : {"loss_residual", "loss_boundary", "test_rel_l2", "penalty"}) {
    EXPECT_NE(metrics.find(col), std::string::npos) << col;
  }
  EXPECT_TRUE(std::filesystem::exists(report.dir / "predictions.csv"));
}

TEST_F(PinnTest, ResumeContinuesExactly) {
  // A constant learning rate: a schedule depends on train.steps, which the resumption raises.
  std::string yaml = kSmallPoisson;
  yaml.erase(yaml.find("  schedule:"));
  auto whole = pinn_spec(yaml, tmp() / "whole");
  whole.overrides = {"train.steps=40", "train.eval_every=10", "train.checkpoint_every=20", "pde.kind=heat"};
  const auto a = trainers::run_experiment(whole);
  auto half = whole;
  half.runs_root = tmp() / "half";
  half.overrides = {"train.steps=20", "train.eval_every=10", "train.checkpoint_every=20", "pde.kind=heat"};
  const auto b = trainers::run_experiment(half);
  auto resumed = pinn_spec("", tmp() / "half");
  resumed.resume_dir = b.dir;
  resumed.overrides = {"train.steps=40"};
  const auto c = trainers::run_experiment(resumed);
  EXPECT_EQ(read_text(c.dir / "metrics.csv"), read_text(a.dir / "metrics.csv"));
  EXPECT_EQ(read_text(c.dir / "predictions.csv"), read_text(a.dir / "predictions.csv"));
  EXPECT_NE(read_text(a.dir / "metrics.csv").find("loss_initial"), std::string::npos);
}

TEST_F(PinnTest, BadConfigsAreOneClearError) {
  const auto fails = [&](const std::string& overrides, const std::string& expect) {
    auto spec = pinn_spec(pinn::kPinnDefaults, tmp());
    spec.overrides = {"train.steps=2"};  // should it not fail, it must not train long
    std::stringstream ss(overrides);
    for (std::string o; ss >> o;) spec.overrides.push_back(o);
    try {
      trainers::run_experiment(spec);
      ADD_FAILURE() << overrides << ": no error";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << overrides << ": " << e.what();
    }
  };
  fails("pde.kind=poisson3", "unknown PDE kind 'poisson3': registered kinds are");
  fails("physics.weights.bondary=3", "bondary");
  fails("pde.kind=heat physics.coordinates=1", "reads no Laplacian");
  fails("physics.engine=reverse", "engine");
  fails("physics.collocation=0", "collocation");
  fails("pde.kind=heat pde.kappa=-1", "kappa");
  fails("data.kind=synthetic", "unknown key 'data'");
}

TEST_F(PinnTest, ParseTermNamesPartialsAndRefusesOthers) {
  EXPECT_EQ(parse_term("u", {"x", "t"}), (regularizers::MultiIndex{0, 0}));
  EXPECT_EQ(parse_term("u_xxt", {"x", "t"}), (regularizers::MultiIndex{2, 1}));
  EXPECT_EQ(parse_term("u_x10x1", {"x1", "x10"}), (regularizers::MultiIndex{1, 1}));
  EXPECT_THROW(parse_term("u_xz", {"x", "t"}), ConfigError);
  EXPECT_THROW(parse_term("v_x", {"x", "t"}), ConfigError);
}

TEST_F(PinnTest, AUsersRegisteredPdeRunsFromYaml) {
  // examples/custom_pde.cpp registers helmholtz2d; its solution has zero residual too.
  const auto pde = pde_of("kind: helmholtz2d\nn: 1");
  EXPECT_LE(pde_residual(pde, solution_model(pde), points_in(pde, 32), Engine::kAutograd).abs().max().item<double>(), 1e-9);
  const auto r = testutil::run_command(fmt::format(
      "REGULA_PYTHON= {} --quiet pinn --out {} pde.kind=helmholtz2d train.steps=20 train.eval_every=10 "
      "physics.collocation=64 physics.test_grid=11", testutil::regula_bin(), tmp().string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("test_rel_l2"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace regula
