// The sparse half of `regula demo`: short versions of experiment 2
// (window vs depth) and experiment 6 (recovering a real MNIST digit).
#include "trainers/sparse/demo.h"

#include "core/distributed.h"
#include "core/logging.h"
#include "core/mnist.h"
#include "trainers/sparse/recover.h"

namespace regula::sparse {

const char* const kDemoWindow = R"(# demo: experiment 2, shortened (8 replicates)
name: demo-sparse-window
seeds: [0, 1, 2, 3, 4, 5, 6, 7]
data: {kind: synthetic, n: 100, d: 200, k: 5, sigma: 0.5, val_ratio: 0.25}
model: {depths: [2, 3, 4], w0: 1.0e-5}
train: {lr: 1.0e-2, steps: 3500, eval_every: 10, early_stopping: {patience_steps: 300}}
baselines: {replicates: 3}
)";

// Gaussian measurements and larger steps than the paper's (configs/sparse_exp6_mnist.yaml)
// so that 2000 steps suffice for a picture.
const char* const kDemoDigit = R"(# demo: experiment 6 on a real MNIST digit
name: demo-sparse-digit
data: {kind: mnist, mnist_index: [0], n: 392, sigma: 0.0, design: gaussian, val_ratio: 0.25}
model: {depths: [2, 3, 5], w0: 1.0e-3, parametrization: positive}
train: {lr: [0.035, 0.018, 0.007], steps: 2000, eval_every: 10, early_stopping: {patience_steps: 200}}
baselines: {replicates: 1}
)";

std::vector<RecoverReport> run_demo(const core::RunRequest& request) {
  core::require_single_process("demo");
  core::RunRequest r = request;
  r.config_path.clear();  // the demo always runs its embedded defaults (overrides still apply)
  std::vector<RecoverReport> out;
  core::log_info("sparse demo 1/2: early-stopping window vs depth (experiment 2, short)");
  out.push_back(run_recover(r, kDemoWindow, "demo-sparse-window"));
  core::RunRequest digit = r;
  if (core::find_bundled_mnist().empty()) {
    core::log_warn("no MNIST digits installed (scripts/setup.sh installs them): the demo uses Regula's hand-drawn digit");
    digit.overrides.insert(digit.overrides.begin(), "data.kind=digit");
    core::log_info("sparse demo 2/2: recovering the built-in 28x28 digit from 392 measurements (experiment 6, short)");
  } else {
    core::log_info("sparse demo 2/2: recovering a real 28x28 MNIST digit from 392 measurements (experiment 6, short)");
  }
  out.push_back(run_recover(digit, kDemoDigit, "demo-sparse-digit"));
  return out;
}

}  // namespace regula::sparse
