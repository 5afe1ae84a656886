// PINN training-step benchmark: one step = the physics loss (PDE residual at fresh collocation
// points, each condition at fresh face points) for an MLP d-64-64-64-1 (tanh), backward, Adam,
// with the Taylor-mode and the nested-autograd engines; then `--steps` steps of training and the
// relative L2 error against the PDE's solution.  Prints a table and writes CSV rows
// (pde, method, steps, ms_per_step, rel_l2, seconds_total) that bench/run_pinn.py sets beside
// DeepXDE's and plain PyTorch's (bench/pinn_deepxde.py).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>
#include <torch/optim/adam.h>

#include "core/config.h"
#include "core/device.h"
#include "core/logging.h"
#include "models/mlp.h"
#include "trainers/pinn/physics_loss.h"
#include "trainers/pinn/pinn_job.h"

namespace {

using namespace regula;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Row {
  std::string pde, method;
  int64_t steps;
  double ms_per_step, rel_l2, seconds;
};

Row run(const std::string& kind, regularizers::Engine engine, int64_t steps, int64_t collocation, int64_t boundary,
        int64_t timed) {
  auto config = core::Config::from_string("kind: " + kind, "bench");
  const auto pde = pinn::make_pde(config.root());
  core::seed_everything(0);
  models::MLP mlp(models::MLPOptions({pde.dim(), 64, 64, 64, 1}).activation("tanh").init("xavier_normal"));
  const auto model = models::as_model(mlp);
  pinn::PhysicsLoss loss(pde, pinn::PhysicsOptions().collocation(collocation).boundary(boundary).engine(engine));
  loss.setup(model, {});
  torch::optim::Adam adam(mlp->parameters(), torch::optim::AdamOptions(1e-3));
  const auto step = [&] {
    adam.zero_grad();
    loss.penalty(model).backward();
    adam.step();
  };
  // Time per step: the median of windows of `timed` steps after a warm-up.
  for (int i = 0; i < 5; ++i) step();
  std::vector<double> windows;
  const auto start = Clock::now();
  int64_t done = 5;
  while (windows.size() < 5 || (seconds_since(start) < 3.0 && windows.size() < 50)) {
    const auto t = Clock::now();
    for (int64_t i = 0; i < timed; ++i) step();
    windows.push_back(seconds_since(t) * 1e3 / static_cast<double>(timed));
    done += timed;
  }
  std::sort(windows.begin(), windows.end());
  const double ms = windows[windows.size() / 2];
  const auto train_start = Clock::now();
  for (; done < steps; ++done) step();
  const double seconds = seconds_since(train_start) + ms * 1e-3 * static_cast<double>(std::min(done, steps));
  const auto test = pinn::pde_test_set(pde, 101, 2000, 0);
  torch::NoGradGuard no_grad;
  const auto pred = model.forward(test.test_x.to(torch::kFloat32)).to(torch::kFloat64);
  const double rel = ((pred - test.test_y).norm() / test.test_y.norm()).item<double>();
  return {kind, std::string("regula_") + regularizers::engine_name(engine), std::max(done, steps), ms, rel, seconds};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"PINN training step: Taylor mode vs nested autograd (see bench/run_pinn.py)"};
  std::vector<std::string> pdes{"poisson2d", "kdv", "beam", "biharmonic2d"};
  std::vector<std::string> engines{"taylor", "autograd"};
  int64_t steps = 2000, collocation = 1024, boundary = 256, timed = 10;
  std::string csv;
  app.add_option("--pde", pdes, "PDE kinds")->capture_default_str();
  app.add_option("--engines", engines, "engines")->capture_default_str();
  app.add_option("--steps", steps, "training steps before the error is measured (0: timing only)")->capture_default_str();
  app.add_option("--collocation", collocation, "collocation points per step")->capture_default_str();
  app.add_option("--boundary", boundary, "points per condition per step")->capture_default_str();
  app.add_option("--timed", timed, "steps per timed window")->capture_default_str();
  app.add_option("--csv", csv, "append the rows to this CSV");
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(1);
  regula::core::set_log_level(regula::core::LogLevel::kQuiet);
  std::vector<Row> rows;
  std::printf("%-14s %-16s %8s %12s %10s %10s\n", "pde", "method", "steps", "ms/step", "rel_l2", "seconds");
  for (const auto& p : pdes) {
    for (const auto& e : engines) {
      const auto r = run(p, regula::regularizers::parse_engine(e), steps, collocation, boundary, timed);
      std::printf("%-14s %-16s %8lld %12.3f %10.3g %10.1f\n", r.pde.c_str(), r.method.c_str(),
                  static_cast<long long>(r.steps), r.ms_per_step, r.rel_l2, r.seconds);
      std::fflush(stdout);
      rows.push_back(r);
    }
  }
  if (!csv.empty()) {
    const bool fresh = !std::ifstream(csv).good();
    std::ofstream out(csv, std::ios::app);
    if (fresh) out << "pde,method,steps,ms_per_step,rel_l2,seconds_total\n";
    for (const auto& r : rows) out << r.pde << ',' << r.method << ',' << r.steps << ',' << r.ms_per_step << ',' << r.rel_l2 << ',' << r.seconds << '\n';
  }
  return 0;
}
