// k-TV training-step benchmark: one step = forward on a data batch, k-TV penalty at M fresh
// points, backward, Adam step, for the MLP 2-100-100-100-100-1 (sigmoid), k = 1..6, float32 or
// float64, with the Taylor-mode, reverse-mode (k = 1) and nested-autograd engines; it also says
// which engine `engine: auto` picks.  Prints a table and writes a CSV; run it through
// bench/ktv_bench.sh, which interleaves it with the same step in PyTorch Python
// (bench/ktv_step_anchor.py) and JAX (bench/ktv_step_jax.py) and prints the ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>
#include <torch/optim/adam.h>

#include "core/device.h"
#include "core/logging.h"
#include "models/mlp.h"
#include "regularizers/ktv.h"

namespace {

using namespace regula;

struct Case {
  int64_t order;
  std::string engine;
  double median_ms, min_ms;
  int reps;
};

void synchronize(const torch::Device& device) {
  // A tiny host read waits for every queued kernel on the device.
  if (device.is_cuda()) torch::zeros({1}, torch::TensorOptions().device(device)).cpu();
}

models::MLP benchmark_mlp(const torch::Device& device, torch::ScalarType dtype) {
  models::MLP mlp(models::MLPOptions({2, 100, 100, 100, 100, 1}).activation("sigmoid"));
  mlp->to(device, dtype);
  return mlp;
}

regularizers::KTVOptions benchmark_ktv(int64_t order, int64_t samples, regularizers::Engine engine) {
  const double two_pi = 6.283185307179586;
  return regularizers::KTVOptions(order).power(2).weight(1e-3).samples(samples).domain(0.0, two_pi).engine(engine);
}

// The engine `engine: auto` resolves to for this order.
std::string auto_engine(int64_t order, const torch::Device& device, torch::ScalarType dtype) {
  auto mlp = benchmark_mlp(device, dtype);
  regularizers::KTV ktv(benchmark_ktv(order, 1, regularizers::Engine::kAuto));
  ktv.setup(models::as_model(mlp), {});
  return regularizers::engine_name(ktv.engine());
}

// Which part of the step to time: all of it, or (--parts) the data loss's forward and backward,
// the penalty's, or the Adam update alone.
enum class Part { kStep, kData, kPenalty, kAdam };

Case time_case(int64_t order, regularizers::Engine engine, const torch::Device& device, torch::ScalarType dtype,
               int64_t samples, int64_t batch, double budget_s, int min_reps, int max_reps, Part part = Part::kStep) {
  core::seed_everything(0);
  auto mlp = benchmark_mlp(device, dtype);
  auto model = models::as_model(mlp);
  const double two_pi = 6.283185307179586;
  regularizers::KTV ktv(benchmark_ktv(order, samples, engine));
  ktv.setup(model, {});
  torch::optim::Adam adam(mlp->parameters(), torch::optim::AdamOptions(1e-3));
  const auto opts = torch::TensorOptions().device(device).dtype(dtype);
  const auto x = two_pi * torch::rand({batch, 2}, opts);
  const auto y = (torch::sin(2 * x.select(1, 0)) * torch::cos(2 * x.select(1, 1))).unsqueeze(1);
  auto step = [&] {
    switch (part) {
      case Part::kStep: {
        adam.zero_grad();
        auto loss = (model.forward(x) - y).square().mean() + ktv.penalty(model);
        loss.backward();
        adam.step();
        break;
      }
      case Part::kData: adam.zero_grad(); (model.forward(x) - y).square().mean().backward(); break;
      case Part::kPenalty: adam.zero_grad(); ktv.penalty(model).backward(); break;
      case Part::kAdam: adam.step(); break;
    }
  };
  if (part == Part::kAdam) (model.forward(x) - y).square().mean().backward();  // gradients to apply
  step();  // warm-up (allocator, thread pool)
  synchronize(device);
  std::vector<double> ms;
  const auto start = std::chrono::steady_clock::now();
  while (static_cast<int>(ms.size()) < max_reps) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    synchronize(device);
    const auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    const double spent = std::chrono::duration<double>(t1 - start).count();
    if (static_cast<int>(ms.size()) >= min_reps && spent > budget_s) break;
  }
  std::sort(ms.begin(), ms.end());
  return {order, regularizers::engine_name(engine), ms[ms.size() / 2], ms.front(), static_cast<int>(ms.size())};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"k-TV training-step benchmark (Taylor mode, reverse mode, nested autograd; C++)"};
  std::vector<int64_t> orders = {1, 2, 3, 4, 5, 6};
  int64_t samples = 1024, batch = 256;
  std::vector<std::string> engines = {"taylor", "reverse", "autograd"};
  int threads = 0, min_reps = 3, max_reps = 50;
  double budget_s = 2.0;
  std::string csv, device_name = "cpu", dtype_name = "float32";
  app.add_option("--orders", orders, "orders k to time, e.g. 1,2,3")->delimiter(',')->check(CLI::Range(1, 15));
  app.add_option("--samples", samples, "M, k-TV points per step");
  app.add_option("--batch", batch, "data batch per step");
  app.add_option("--threads", threads, "intra-op threads (0 = LibTorch's default)");
  app.add_option("--budget", budget_s, "seconds of timing per case (at least --min-reps steps)");
  app.add_option("--min-reps", min_reps);
  app.add_option("--max-reps", max_reps);
  app.add_option("--device", device_name, "cpu or cuda");
  app.add_option("--dtype", dtype_name, "float32 or float64")->check(CLI::IsMember({"float32", "float64"}));
  app.add_option("--csv", csv, "write the timings here");
  bool parts = false;
  app.add_flag("--parts", parts, "also time the step's parts: data loss, penalty (forward + backward), Adam");
  app.add_option("--engines", engines, "engines to time (taylor, reverse, autograd; reverse at k = 1 only)")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) at::set_num_threads(threads);
  core::set_log_level(core::LogLevel::kQuiet);  // no per-case "k-TV: ... engine" lines
  const auto device = core::resolve_device(device_name);
  const auto dtype = dtype_name == "float64" ? torch::kFloat64 : torch::kFloat32;
  std::vector<regularizers::Engine> timed;
  for (const auto& e : engines) timed.push_back(regularizers::parse_engine(e, "--engines"));

  std::printf("k-TV step: MLP 2-100-100-100-100-1 sigmoid, M=%lld, batch=%lld, Adam, %s, %s, %d threads\n",
              static_cast<long long>(samples), static_cast<long long>(batch), dtype_name.c_str(),
              device.str().c_str(), at::get_num_threads());
  std::printf("%3s", "k");
  for (const auto& e : engines) std::printf(" %14s", (e + " [ms]").c_str());
  std::printf(" %12s\n", "auto picks");
  std::vector<std::pair<Case, std::string>> cases;
  for (const int64_t k : orders) {
    const auto picked = auto_engine(k, device, dtype);
    std::printf("%3lld", static_cast<long long>(k));
    for (const auto engine : timed) {
      if (engine == regularizers::Engine::kReverse && k != 1) {  // first derivatives only
        std::printf(" %14s", "-");
        continue;
      }
      const auto c = time_case(k, engine, device, dtype, samples, batch, budget_s, min_reps, max_reps);
      std::printf(" %14.2f", c.median_ms);
      cases.emplace_back(c, picked);
    }
    std::printf(" %12s\n", picked.c_str());
    if (parts) {
      const auto part_ms = [&](regularizers::Engine engine, Part part) {
        return time_case(k, engine, device, dtype, samples, batch, budget_s, min_reps, max_reps, part).median_ms;
      };
      std::printf("    parts [ms]: data loss %.2f, Adam %.2f, penalty", part_ms(regularizers::Engine::kAuto, Part::kData),
                  part_ms(regularizers::Engine::kAuto, Part::kAdam));
      for (const auto engine : timed) {
        if (engine == regularizers::Engine::kReverse && k != 1) continue;
        std::printf(" %s %.2f", regularizers::engine_name(engine).c_str(), part_ms(engine, Part::kPenalty));
      }
      std::printf("\n");
    }
    std::fflush(stdout);
  }
  if (!csv.empty()) {
    std::ofstream out(csv);
    out << "order,engine,median_ms,min_ms,reps,dtype,auto_picks\n";
    for (const auto& [c, picked] : cases) {
      out << c.order << ',' << c.engine << ',' << c.median_ms << ',' << c.min_ms << ',' << c.reps << ','
          << dtype_name << ',' << picked << '\n';
    }
  }
  return 0;
}
