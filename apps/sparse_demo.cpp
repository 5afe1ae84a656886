// The sparse half of `regula demo`: short versions of experiment 2
// (window vs depth) and experiment 6 (digit recovery) on embedded defaults.
#include "apps/commands.h"
#include "apps/sparse_common.h"
#include "core/logging.h"

namespace regula::apps {
namespace {

const char* kDemoWindow = R"(# demo: experiment 2, shortened (10 replicates)
name: demo-sparse-window
device: auto
threads: 1             # small problems: one CPU thread is fastest, more spin when cores are shared
seed: 0
data: {source: synthetic, n: 100, d: 200, k: 5, sigma: 0.5, val_ratio: 0.25, replicates: 8}
model: {depths: [2, 3, 4], w0: 1.0e-5}
train: {eta: 1.0e-2, max_steps: 3500, log_every: 10, early_stopping: {patience: 30}}
baselines: {lasso_iterations: 300, replicates: 3}
)";

const char* kDemoDigit = R"(# demo: experiment 6 on the built-in digit
name: demo-sparse-digit
device: auto
threads: 1
seed: 0
data: {source: digit, n: 392, sigma: 0.0, design: gaussian, val_ratio: 0.25}
model: {depths: [2, 3, 5], w0: 1.0e-3, positive: true}
train: {eta: [0.035, 0.018, 0.007], max_steps: 2000, log_every: 10, early_stopping: {patience: 20}}
baselines: {lasso_iterations: 300, replicates: 1}
)";

}  // namespace

void run_sparse_demo(const RunArgs& args) {
  RunArgs a = args;
  a.config_path.clear();  // the demo always runs its embedded defaults (overrides still apply)
  core::log_info("sparse demo 1/2: early-stopping window vs depth (experiment 2, short)");
  run_recover(a, kDemoWindow, "demo-sparse-window");
  core::log_info("sparse demo 2/2: recovering a 28x28 digit from 392 measurements (experiment 6, short)");
  run_recover(a, kDemoDigit, "demo-sparse-digit");
}

}  // namespace regula::apps
