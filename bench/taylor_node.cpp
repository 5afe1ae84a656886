// Micro-benchmark of one Taylor activation node on the CPU: the forward (Y and H stacks) and the
// backward (g_X from g_Y and H) for a stack [1 + k S, M, width], next to a memory anchor measured in
// the same run: copying the same bytes (forward: read X, write Y and H; backward: read g_Y and H,
// write g_X).  Prints one line per order: ms per call and the ratio to the anchor.
//   MALLOC_MMAP_THRESHOLD_=268435456 ./build/bench/taylor_node --threads 1 --orders 1,2,3,4,5,6
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include "regularizers/taylor_series.h"

namespace {

using namespace regula::regularizers;

template <class Fn>
double median_ms(Fn&& fn, int reps) {
  fn();  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Taylor activation node: fused CPU forward/backward against a copy of the same bytes"};
  std::vector<int64_t> orders = {1, 2, 3, 4, 5, 6};
  int64_t samples = 1024, width = 100, directions = 2;
  int threads = 1, reps = 30;
  std::string act_name = "sigmoid", dtype = "float32";
  app.add_option("--orders", orders, "orders k")->delimiter(',')->check(CLI::Range(1, 15));
  app.add_option("--samples", samples, "M");
  app.add_option("--width", width);
  app.add_option("--directions", directions, "S");
  app.add_option("--threads", threads);
  app.add_option("--reps", reps);
  app.add_option("--activation", act_name)->check(CLI::IsMember({"tanh", "sigmoid", "softplus", "sin", "silu", "gelu", "relu"}));
  app.add_option("--dtype", dtype)->check(CLI::IsMember({"float32", "float64"}));
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(threads);
  auto act = taylor::Activation::kSigmoid;
  for (int a = 0; a <= static_cast<int>(taylor::Activation::kRelu); ++a) {
    if (taylor::activation_name(static_cast<taylor::Activation>(a)) == act_name) act = static_cast<taylor::Activation>(a);
  }
  const auto opts = torch::TensorOptions().dtype(dtype == "float32" ? torch::kFloat32 : torch::kFloat64);
  std::printf("Taylor node %s, %s, M=%lld, width=%lld, S=%lld, %d threads; median of %d calls\n", act_name.c_str(),
              dtype.c_str(), static_cast<long long>(samples), static_cast<long long>(width),
              static_cast<long long>(directions), at::get_num_threads(), reps);
  std::printf("%3s %12s %12s %8s %12s %12s %8s\n", "k", "fwd [ms]", "copy [ms]", "ratio", "bwd [ms]", "copy [ms]", "ratio");
  for (const int64_t k : orders) {
    const auto X = torch::randn({1 + k * directions, samples, width}, opts);
    const auto G = torch::randn_like(X);
    const double fwd = median_ms([&] { taylor::series_stacks(X, act, {}, /*fused=*/true, directions); }, reps);
    const double fwd_copy = median_ms([&] {
      auto Y = torch::empty_like(X), H = torch::empty_like(X);
      Y.copy_(X);
      H.copy_(X);
    }, reps);
    const auto Xg = X.clone().requires_grad_(true);
    const auto Y = taylor::taylor_activation(Xg, act, {}, directions);
    const double bwd = median_ms([&] { torch::autograd::grad({Y}, {Xg}, {G}, /*retain_graph=*/true); }, reps);
    const double bwd_copy = median_ms([&] {
      auto gX = torch::empty_like(X);
      torch::add_out(gX, G, X);
    }, reps);
    std::printf("%3lld %12.3f %12.3f %7.1fx %12.3f %12.3f %7.1fx\n", static_cast<long long>(k), fwd, fwd_copy,
                fwd / fwd_copy, bwd, bwd_copy, bwd / bwd_copy);
    std::fflush(stdout);
  }
  return 0;
}
