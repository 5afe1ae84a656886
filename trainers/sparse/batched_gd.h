#pragma once
/// \file Many diagonal-network GD runs advanced as one batched computation.
///
/// P problems (e.g. seeds x sample sizes) are stacked into zero-padded
/// tensors X [P, n_max, d], y [P, 1, n_max] (padded rows are exact no-ops:
/// their residual is 0, and each problem divides by its own n); C parameter
/// sets (depth N, scale \alpha, step \eta) run on every problem, so the state
/// is u, v [P, C, d] and a step is two batched matrix products plus
/// elementwise work, whatever P and C are.  Metrics are computed on device
/// every `eval_every` steps and read to the host in blocks of `flush_every`
/// logs: memory grows with steps / eval_every scalars per run, never with
/// iterates.  Best iterates (oracle error and validation loss) are tracked on
/// device.  A run whose loss is non-finite or exceeds `divergence_factor`
/// times its initial loss is marked diverged and frozen (or, with
/// `throw_on_divergence`, stops everything with a DivergenceError).
/// Data-driven early stopping (`patience_steps`) is tracked per run beside the
/// oracle metrics: a run's early-stopped iterate is its iterate of least
/// validation loss up to the first logged step at which `patience_steps` steps
/// have passed without a better one; the run itself goes on, so its windows and
/// best iterate see the whole trajectory.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/options.h"
#include "trainers/callbacks.h"
#include "trainers/sparse/problem.h"

namespace regula::sparse {

/// Problems stacked for the batched engine.
struct BatchedProblems {
  torch::Tensor X, y, inv_n;              ///< [P, n_max, d], [P, 1, n_max], [P, 1, 1]
  torch::Tensor Xt;                       ///< X^T [P, d, n_max], contiguous (the faster layout for w X^T)
  torch::Tensor X_val, y_val, inv_n_val;  ///< same for validation; undefined when no problem has any
  torch::Tensor w_star, support;          ///< [P, 1, d] ground truth and its support mask (bool)
  bool has_truth = true;                  ///< false: w* = 0 stands in (the oracle metrics are meaningless)
  int64_t problems() const { return X.size(0); }
  int64_t dim() const { return X.size(2); }
};

/// Stacks problems (same d; all with ground truth, or none: then w* = 0 stands in
/// and the oracle metrics are meaningless) with zero padding.
BatchedProblems stack_problems(const std::vector<SparseProblem>& problems, torch::Device device,
                               torch::ScalarType dtype);

/// Problems [begin, end) of `problems`, padded as they were (a distributed sweep's shard: each
/// problem's runs are then the same computation as in the whole stack).
BatchedProblems slice_problems(const BatchedProblems& problems, int64_t begin, int64_t end);

/// Refuses, before any data is made, a batched run that would not fit in memory: `problems`
/// problems of `rows` measurements (training and validation) in dimension `d`, each run with
/// `configs` parameter sets (the data in float64 while generated, X and X^T, and the runs' state).
/// A ConfigError naming `what_to_reduce` (core::check_fits_in_memory).
void check_batched_fits(double problems, double rows, double d, double configs, const std::string& what_to_reduce);

/// Up to this many parameter sets per problem the step's products are done in one pass over X
/// (design_products).  The kernel redoes each row's work once per set (no blocking across
/// sets), so with many sets the products become matrix-matrix products where BLAS's blocked
/// GEMM should win; 4 is a conservative bound, not a measured crossover (bench/bench_sparse
/// measures one set and the 8-set sweep, whose small designs stay on BLAS anyway).
constexpr int64_t kMaxOnePassConfigs = 4;

/// One parameter set of a sweep.
struct GDConfig {
  int64_t depth = 2;   ///< N
  double alpha = 1e-3; ///< initial scale, u_0 = v_0 = \alpha
  double eta = 1e-2;   ///< step size
};

/// Non-owning pointers held by BatchedGDOptions.
using CallbackListPtr = trainers::CallbackList*;
using ModulePtr = torch::nn::Module*;

/// Options of run_batched_gd.
struct BatchedGDOptions {
  /// Number of GD steps.
  REGULA_ARG(int64_t, steps) = 10000;
  /// Early stopping on the validation loss: steps without improvement before a run's
  /// early-stopped iterate is fixed (0: none; needs validation data).
  REGULA_ARG(int64_t, patience_steps) = 0;
  /// Metrics every this many steps (step 0 = initialisation included).
  REGULA_ARG(int64_t, eval_every) = 10;
  /// Logs kept on device between host reads.
  REGULA_ARG(int64_t, flush_every) = 64;
  /// The form of w(u, v): "signed" (u^N - v^N), "positive" (u^N) or a registered one
  /// (models/diagonal_parametrization.h).
  REGULA_ARG(std::string, parametrization) = "signed";
  /// Diverged when loss > factor x initial loss or not finite.
  REGULA_ARG(double, divergence_factor) = 1e6;
  /// Throw DivergenceError instead of marking and freezing diverged runs.
  REGULA_ARG(bool, throw_on_divergence) = false;
  /// On CPU, do the elementwise half of each step in one fused pass (gd_kernels.h); false:
  /// tensor ops, as on other devices (for tests and comparisons).
  REGULA_ARG(bool, fused) = true;
  /// With `fused`, at most kMaxOnePassConfigs parameter sets per problem and at least this many
  /// entries per design (one that does not stay in L2), the step's two products are done in one
  /// pass over X (gd_kernels.h design_products) instead of two BLAS products.
  REGULA_ARG(int64_t, one_pass_min_entries) = int64_t(1) << 18;
  /// In the one-pass products, read an int8 copy of X when that is exact (e.g. +-1 entries: one
  /// byte per entry instead of 4 or 8).  false: the float design.
  REGULA_ARG(bool, int8_design) = true;
  /// Write a checkpoint (atomically, to checkpoint_path) every this many steps, at the first
  /// log step past it, and at the end; 0: never.
  REGULA_ARG(int64_t, checkpoint_every) = 0;
  /// The checkpoint file (one file, replaced each time).
  REGULA_ARG(std::string, checkpoint_path) = "";
  /// Continue from checkpoint_path when it exists: the result equals that of an uninterrupted
  /// run (steps may be raised to extend a finished run; its logs then keep the row of the old
  /// last step when that was not a multiple of eval_every).  A checkpoint of another run
  /// (problems, configurations, eval_every, ...) is refused with a CheckpointError.
  REGULA_ARG(bool, resume) = false;
  /// Called once the run is set up, before its first step: after the checkpoint to resume
  /// from (if any) was accepted, e.g. to record the config a resumed run now follows.
  REGULA_ARG(std::function<void()>, on_start) = nullptr;
  /// Log the paths of up to this many support coordinates of problem 0.
  REGULA_ARG(int64_t, path_coords) = 0;
  /// The trainers' callbacks (not owned): on_train_begin, on_step_end after every step (e.g.
  /// trainers::ProgressBar), on_train_end; for a single run (P = C = 1) also on_eval_end at
  /// every logged step with its metrics train_loss, val_loss (with validation data) and error
  /// (with w*).  A callback that sets `stop` ends the run after that step.
  REGULA_ARG(CallbackListPtr, callbacks) = nullptr;
  /// The module callbacks see as TrainState::model (e.g. EarlyStopping's restore_best).
  REGULA_ARG(ModulePtr, model) = nullptr;
  /// Called with the state u, v [P, C, d] before each on_eval_end and at the end (e.g. to copy it
  /// into a model that callbacks look at).
  REGULA_ARG(std::function<void(const torch::Tensor& u, const torch::Tensor& v)>, on_state) = nullptr;
  /// Initial factors [d] (broadcast to every run) instead of u_0 = v_0 = \alpha (e.g. a model's).
  REGULA_ARG(torch::Tensor, initial_u) = {};
  REGULA_ARG(torch::Tensor, initial_v) = {};
};

/// Everything a batched run returns.  Run (p, c) is at index p * C + c.
struct BatchedGDResult {
  int64_t problems = 0, configs = 0;
  std::vector<int64_t> steps;  ///< logged steps
  /// Per run and logged step: ||w - w^*||^2, max_{S}|w - w^*|, max_{not S}|w|, train and val loss.
  std::vector<std::vector<double>> error, support_dev, off_max, train_loss, val_loss;
  std::vector<int64_t> path_index;            ///< coordinates whose paths were logged
  std::vector<std::vector<double>> paths;     ///< per config: [logs x path_index] of problem 0, row-major
  torch::Tensor best_w, best_error, best_step;            ///< oracle best iterate [P, C, d]; [P, C] (CPU)
  torch::Tensor val_best_w, val_best_error, val_best_step;///< iterate of least validation loss; its error, step (CPU)
  /// Early stopping (patience_steps > 0 and validation data; else undefined): the early-stopped
  /// iterate, its step, error and validation loss, and the step at which patience ran out (-1: never).
  torch::Tensor es_w, es_step, es_error, es_val_loss, es_stop_step;
  torch::Tensor final_w;                                  ///< last iterate [P, C, d]
  std::vector<uint8_t> diverged;                          ///< per run
  int64_t steps_run = 0;                                  ///< steps done (< steps when a callback stopped the run)
  std::string stop_reason;                                ///< a callback's, when one stopped the run
  int64_t index(int64_t p, int64_t c) const { return p * configs + c; }
};

/// Runs every config on every problem for steps steps.
BatchedGDResult run_batched_gd(const BatchedProblems& problems, const std::vector<GDConfig>& configs,
                               const BatchedGDOptions& options);

}  // namespace regula::sparse
