// Speed of the diagonal-network GD step, printed as `key value` lines for
// bench/run_sparse.py, which runs the NumPy, PyTorch-in-Python and JAX anchors of the same
// update in the same run and prints the ratios and the limits.
//   single_its         iterations/s of the trainer's loop (run_batched_gd, one problem n = 500,
//                      d = 10000, N = 2, float64, losses logged every 100 steps): the +-1
//                      design read as int8 (the default)
//   single_float_its   the same with the design read as float64 (BLAS; any real-valued design)
//   stream_gbps        read bandwidth of this machine, GB/s (sum over a 256 MB array)
//   batched_cps        configurations/s, 256 runs (32 problems x 8 parameter sets) as one batch
//   sequential_cps     configurations/s, the same 256 runs one after another
//   gemm_gflops        float32 GEMM rate, GFLOP/s, at the batched sweep's shapes (Regula's kernel)
//   torch_gemm_gflops  the same with LibTorch's bmm
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <ATen/Parallel.h>

#include "core/matmul.h"
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

/// Best of three: seconds of f().
template <class Fn>
double best_seconds(Fn&& f) {
  double best = INFINITY;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}
}  // namespace

int main(int argc, char** argv) {
  const int single_iters = arg(argc, argv, "--single-iters", 300);
  const int sweep_steps = arg(argc, argv, "--sweep-steps", 300);
  // --parts single,batched,sequential,limits (default all): time only some parts, e.g. under a profiler.
  const std::string parts = arg_text(argc, argv, "--parts", "single,batched,sequential,limits");
  const auto wanted = [&](const char* part) { return parts.find(part) != std::string::npos; };
  sparse::flush_denormals();
  std::printf("threads %d\n", at::get_num_threads());

  // 1. One problem, n = 500, d = 10000, float64 (the NumPy convention), through the trainer's loop.
  if (wanted("single")) {
    const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(500, 10000, 5).seed(0));
    const auto pb = sparse::stack_problems({pr}, torch::kCPU, torch::kDouble);
    const std::vector<sparse::GDConfig> config{{2, 1e-3, 1e-3}};
    for (const bool int8 : {true, false}) {
      const auto opts = sparse::BatchedGDOptions().steps(single_iters).eval_every(100).int8_design(int8);
      sparse::run_batched_gd(pb, config, sparse::BatchedGDOptions().steps(10).eval_every(100).int8_design(int8));
      sparse::BatchedGDResult res;
      const double s = best_seconds([&] { res = sparse::run_batched_gd(pb, config, opts); });
      std::printf("%s %.3f\n", int8 ? "single_its" : "single_float_its", single_iters / s);
      std::printf("%s %.10g\n", int8 ? "single_loss" : "single_float_loss", res.train_loss[0].back());
    }
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
    sparse::BatchedGDResult res;
    const double s = best_seconds([&] { res = sparse::run_batched_gd(pb, configs, opts); });
    std::printf("batched_cps %.3f\nbatched_best_error_mean %.6g\n", 256 / s, res.best_error.mean().item<double>());
  }
  if (wanted("sequential")) {
    std::vector<sparse::BatchedProblems> one;
    for (const auto& p : problems) one.push_back(sparse::stack_problems({p}, torch::kCPU, torch::kFloat));
    const double s = best_seconds([&] {
      for (const auto& pb : one)
        for (const auto& c : configs) sparse::run_batched_gd(pb, {c}, opts);
    });
    std::printf("sequential_cps %.3f\n", 256 / s);
  }

  // 3. The limits the steps are bound by, measured here: read bandwidth and GEMM rate.
  if (wanted("limits")) {
    const auto big = torch::ones({int64_t(1) << 25}, torch::kDouble);  // 256 MB, far beyond the caches
    double sink = 0;
    const double s = best_seconds([&] { sink += big.sum().item<double>(); });
    std::printf("stream_gbps %.3f\n", big.numel() * 8.0 / s / 1e9);
    // The batched step's products: [32, 8, 200] x [32, 200, 100] and [32, 8, 100] x [32, 100, 200].
    const auto W = torch::randn({32, 8, 200}), Xt = torch::randn({32, 200, 100}), R = torch::randn({32, 8, 100}),
               X = torch::randn({32, 100, 200});
    auto out1 = torch::empty({32, 8, 100}), out2 = torch::empty({32, 8, 200});
    const int reps = 2000;
    // The products as the trainer runs them (core::bmm_out: Regula's AVX-512 kernel where the CPU
    // has it), and as LibTorch's bmm runs them.
    for (const bool regula : {true, false}) {
      const double g = best_seconds([&] {
        for (int i = 0; i < reps; ++i) {
          if (regula) {
            core::bmm_out(out1, W, Xt);
            core::bmm_out(out2, R, X);
          } else {
            at::bmm_out(out1, W, Xt);
            at::bmm_out(out2, R, X);
          }
        }
      });
      std::printf("%s %.3f\n", regula ? "gemm_gflops" : "torch_gemm_gflops", reps * 2.0 * (2.0 * 32 * 8 * 200 * 100) / g / 1e9);
    }
    if (sink < 0) std::printf("\n");
  }
  return 0;
}
