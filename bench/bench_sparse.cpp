// Speed of the diagonal-network GD step, printed as `key value` lines for
// bench/run_sparse.py, which runs the NumPy and PyTorch-in-Python anchors of
// the same update in the same run and prints the ratios.
//   single_its      iterations/s, one problem n = 500, d = 10000, N = 2, float64
//   batched_cps     configurations/s, 256 runs (32 problems x 8 parameter sets) as one batch
//   sequential_cps  configurations/s, the same 256 runs one after another
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <ATen/Parallel.h>

#include "trainers/sparse/problem.h"
#include "trainers/sparse/batched_gd.h"
#include "trainers/sparse/gd.h"

using namespace regula;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

const char* arg_text(int argc, char** argv, const std::string& name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) if (name == argv[i]) return argv[i + 1];
  return fallback;
}
int arg(int argc, char** argv, const std::string& name, int fallback) {
  const char* text = arg_text(argc, argv, name, nullptr);
  return text ? std::atoi(text) : fallback;
}
}  // namespace

int main(int argc, char** argv) {
  const int single_iters = arg(argc, argv, "--single-iters", 200);
  const int sweep_steps = arg(argc, argv, "--sweep-steps", 300);
  // --parts single,batched,sequential (default all): time only some parts, e.g. under a profiler.
  const std::string parts = arg_text(argc, argv, "--parts", "single,batched,sequential");
  const auto wanted = [&](const char* part) { return parts.find(part) != std::string::npos; };
  sparse::flush_denormals();
  std::printf("threads %d\n", at::get_num_threads());

  // 1. One problem, n = 500, d = 10000, float64 (the NumPy convention).
  if (wanted("single")) {
    const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(500, 10000, 5).seed(0)).to(torch::kCPU, torch::kDouble);
    const auto o = torch::TensorOptions().dtype(torch::kDouble);
    sparse::GDParams p;
    p.eta = torch::scalar_tensor(1e-3, o);
    p.depth = torch::scalar_tensor(2.0, o);
    p.uniform_depth = 2.0;
    p.inv_n = torch::scalar_tensor(1.0 / 500, o);
    auto u = torch::full({10000}, 1e-3, o), v = u.clone();
    for (int i = 0; i < 10; ++i) sparse::gd_step(u, v, pr.X, pr.y, p);
    const auto t0 = Clock::now();
    torch::Tensor loss;
    for (int i = 0; i < single_iters; ++i) loss = sparse::gd_step(u, v, pr.X, pr.y, p);
    const double s = seconds_since(t0);
    std::printf("single_its %.3f\nsingle_loss %.10g\n", single_iters / s, loss.item<double>());
  }

  // 2. 256 configurations: 32 problems (n = 100, d = 200) x depths {2,3,4,5} x w0 {1e-5, 1e-4}, float32.
  std::vector<sparse::SparseProblem> problems;
  for (int s = 0; s < 32; ++s) problems.push_back(sparse::make_synthetic(sparse::SyntheticOptions(100, 200, 5).seed(uint64_t(s))));
  std::vector<sparse::GDConfig> configs;
  for (int64_t N : {2, 3, 4, 5})
    for (double w0 : {1e-5, 1e-4}) configs.push_back({N, std::pow(w0, 1.0 / double(N)), 1e-2});
  const auto opts = sparse::BatchedGDOptions().steps(sweep_steps).eval_every(sweep_steps);
  if (wanted("batched")) {
    const auto pb = sparse::stack_problems(problems, torch::kCPU, torch::kFloat);
    sparse::run_batched_gd(pb, configs, sparse::BatchedGDOptions().steps(5).eval_every(5));
    const auto t0 = Clock::now();
    const auto res = sparse::run_batched_gd(pb, configs, opts);
    const double s = seconds_since(t0);
    std::printf("batched_cps %.3f\nbatched_best_error_mean %.6g\n", 256 / s, res.best_error.mean().item<double>());
  }
  if (wanted("sequential")) {
    std::vector<sparse::BatchedProblems> one;
    for (const auto& p : problems) one.push_back(sparse::stack_problems({p}, torch::kCPU, torch::kFloat));
    const auto t0 = Clock::now();
    for (const auto& pb : one)
      for (const auto& c : configs) sparse::run_batched_gd(pb, {c}, opts);
    const double s = seconds_since(t0);
    std::printf("sequential_cps %.3f\n", 256 / s);
  }
  return 0;
}
