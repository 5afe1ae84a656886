// Speed of the Lasso baseline (coordinate descent, trainers/sparse/lasso_cd.h), printed as
// `key value` lines for bench/run_lasso.py, which runs scikit-learn and celer on the same
// data (bench/lasso_anchor.py) and measures every solution's duality gap with one formula.
//   --problem random  n = 500, d = 10000, X = +-1, y = X w* + 0.5 noise, 5-sparse w* (signed)
//   --problem mnist   the first digit of configs/sparse_exp6_mnist.yaml, its training rows (w >= 0)
//   --out DIR         writes X.npy, y.npy, lambdas.npy (the path), and the solutions
//                     w_gap1e-04.npy, w_gap1e-07.npy (lambda = lambda_max / 100) and W_path.npy
// Timed: time_gap1e-04, time_gap1e-07 (one solve from w = 0), time_path (the 30 values, warm
// started, each to relative gap 1e-6); each includes the copy of X into column order.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "core/config.h"
#include "core/run_dir.h"
#include "core/tabular.h"
#include "trainers/sparse/baselines.h"
#include "trainers/sparse/problem.h"
#include "trainers/sparse/spec.h"

using namespace regula;
using Clock = std::chrono::steady_clock;

namespace {

const char* arg_text(int argc, char** argv, const std::string& name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) if (name == argv[i]) return argv[i + 1];
  return fallback;
}

sparse::SparseProblem mnist_problem() {
  // The experiment's own data section, so the benchmark follows the config.
  auto config = core::Config::from_file(REGULA_SOURCE_DIR "/configs/sparse_exp6_mnist.yaml");
  const auto spec = sparse::read_data_spec(config.root().section("data"));
  return spec.make(spec.n.front(), /*seed=*/0, spec.signals().front());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string problem = arg_text(argc, argv, "--problem", "random");
  const std::filesystem::path out = arg_text(argc, argv, "--out", "");
  at::set_num_threads(1);
  const auto pr = problem == "mnist" ? mnist_problem() : sparse::make_synthetic(sparse::SyntheticOptions(500, 10000, 5).seed(0));
  const bool nonnegative = problem == "mnist";
  const auto& X = pr.X;
  const auto& y = pr.y;
  std::printf("threads %d\nn %lld\nd %lld\nnonnegative %d\n", at::get_num_threads(), static_cast<long long>(pr.n()),
              static_cast<long long>(pr.d()), int(nonnegative));
  if (!out.empty()) {
    std::filesystem::create_directories(out);
    core::write_npy(out / "X.npy", X);
    core::write_npy(out / "y.npy", y);
  }
  const auto options = sparse::LassoOptions().nonnegative(nonnegative);
  const double lambda = sparse::lasso_lambda_max(X, y, nonnegative) / 100;
  const auto one = torch::full({1}, lambda, torch::kDouble);
  sparse::lasso_path(X, y, one, sparse::LassoOptions(options).tolerance(1e-2));  // warm-up (page faults, dispatch)
  for (const char* tol : {"1e-04", "1e-07"}) {
    const auto t0 = Clock::now();
    const auto path = sparse::lasso_path(X, y, one, sparse::LassoOptions(options).tolerance(std::stod(tol)));
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("time_gap%s %.6f\ngap_gap%s %.3e\nepochs_gap%s %lld\n", tol, s, tol, path.gap[0], tol,
                static_cast<long long>(path.epochs[0]));
    if (!out.empty()) core::write_npy(out / fmt::format("w_gap{}.npy", tol), path.w[0]);
  }
  const auto lambdas = sparse::lasso_lambdas(X, y, options);
  const auto t0 = Clock::now();
  const auto path = sparse::lasso_path(X, y, lambdas, options);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  double worst = 0;
  for (const double g : path.gap) worst = std::max(worst, g);
  std::printf("time_path %.6f\ngap_path_max %.3e\nlambda %.17g\n", s, worst, lambda);
  if (!out.empty()) {
    core::write_npy(out / "lambdas.npy", lambdas);
    core::write_npy(out / "W_path.npy", path.w);
    core::write_file_atomically(out / "meta.json", fmt::format("{{\"nonnegative\": {}, \"lambda\": {:.17g}}}\n",
                                                               nonnegative ? "true" : "false", lambda));
  }
  return 0;
}
