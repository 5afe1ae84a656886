#include "trainers/pinn/pinn_job.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/nn/module.h>

#include "core/device.h"
#include "core/errors.h"
#include "models/registry.h"
#include "trainers/pinn/physics_loss.h"

namespace regula::pinn {

// Runs as is: 2-D Poisson with a 3 x 64 tanh MLP, about a minute on one CPU thread.
const char* const kPinnDefaults = R"yaml(
name: pinn_poisson2d
device: auto
dtype: float32
seed: 0
pde:
  kind: poisson2d
model:
  kind: mlp
  hidden: [64, 64, 64]
  activation: tanh
  init: xavier_normal
physics:
  collocation: 1024
  boundary: 256
  engine: auto
  weights: {residual: 1, boundary: 10}
train:
  steps: 3000
  eval_every: 100
  checkpoint_every: 1000
  optimizer: {kind: adam, lr: 0.001}
  schedule: {kind: cosine, min_lr: 0.0001}
)yaml";

trainers::Dataset pde_test_set(const Pde& pde, int64_t grid, int64_t points, uint64_t seed) {
  const int64_t d = pde.dim();
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto lo = torch::tensor(pde.domain.low, f64), hi = torch::tensor(pde.domain.high, f64);
  torch::Tensor x;
  if (d <= 2) {
    std::vector<torch::Tensor> axes;
    for (int64_t j = 0; j < d; ++j) axes.push_back(torch::linspace(pde.domain.low[j], pde.domain.high[j], grid, f64));
    const auto mesh = torch::meshgrid(axes, "ij");
    std::vector<torch::Tensor> cols;
    for (const auto& m : mesh) cols.push_back(m.reshape({-1, 1}));
    x = torch::cat(cols, 1);
  } else {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    x = lo + (hi - lo) * torch::rand({points, d}, gen, f64);
  }
  trainers::Dataset data;
  data.train_x = torch::zeros({0, d}, f64);
  data.train_y = torch::zeros({0, pde.outputs}, f64);
  data.feature_names = pde.coordinates;
  for (int64_t o = 0; o < pde.outputs; ++o) data.target_names.push_back(pde.outputs == 1 ? "u" : fmt::format("u{}", o));
  if (pde.solution) {
    torch::NoGradGuard no_grad;
    data.test_x = x;
    data.test_y = pde.solution(x);
  }
  data.description = fmt::format("PDE {}: {}", pde.name, pde.description);
  return data;
}

trainers::TrainJob read_pinn_job(core::Section root, const core::RunSpec& run, uint64_t seed) {
  trainers::TrainJob job;
  job.device = run.device;
  job.dtype = run.dtype;
  job.derivatives = 0;
  job.divergence_monitor = "penalty";
  Pde pde = make_pde(root.section("pde"));

  auto s = root.section("physics");
  PhysicsOptions o;
  o.collocation(s.get<int64_t>("collocation", o.collocation())).boundary(s.get<int64_t>("boundary", o.boundary()));
  s.check(o.collocation() >= 1, "collocation", "collocation points per step: an integer >= 1, e.g. 1024");
  s.check(o.boundary() >= 1, "boundary", "points per condition per step: an integer >= 1, e.g. 256");
  o.coordinates(s.get<int64_t>("coordinates", 0));
  s.check(o.coordinates() >= 0 && o.coordinates() <= pde.dim(), "coordinates",
          fmt::format("Laplacian coordinates per step: 0 (all) to {}", pde.dim()));
  s.check(o.coordinates() == 0 || pde.laplacian, "coordinates",
          fmt::format("PDE '{}' reads no Laplacian to subsample: leave it 0", pde.name));
  const auto engine = s.get<std::string>("engine", "auto");
  s.check_choice("engine", engine, {"auto", "taylor", "autograd"});
  o.engine(regularizers::parse_engine(engine, s.path("engine")));
  auto w = s.section("weights");
  std::vector<std::string> terms{"residual"};
  for (const auto& c : pde.conditions) terms.push_back(c.name);
  for (const auto& t : terms) {
    const double weight = w.get<double>(t, 1.0);
    w.check(weight >= 0, t, "a loss weight >= 0");
    o.weight(t, weight);
  }
  const auto grid = s.get<int64_t>("test_grid", 101), points = s.get<int64_t>("test_points", 2000);
  s.check(grid >= 2, "test_grid", "test points per axis (d <= 2): an integer >= 2");
  s.check(points >= 1, "test_points", "random test points (d > 2): an integer >= 1");
  job.data = pde_test_set(pde, grid, points, seed);

  core::seed_everything(seed);  // the model's init and the collocation points follow the run's seed
  job.model = models::make_model(root.section("model"), pde.dim(), pde.outputs);
  job.model.module->to(job.device, job.dtype);
  job.regularizers.push_back(std::make_shared<PhysicsLoss>(std::move(pde), o));
  trainers::read_train_section(root.section("train"), job, seed);
  return job;
}

}  // namespace regula::pinn
