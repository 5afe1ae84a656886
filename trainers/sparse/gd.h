#pragma once
/// \file Full-batch gradient descent for depth-N diagonal networks on the
/// unpenalised loss L(w) = (1/n) ||X w - y||_2^2 (the published convention):
///   g = 2 X^T (X w - y) / n,
///   u <- u - \eta N du \odot g,   v <- v - \eta N dv \odot g,
/// with du, dv the parametrization's derivatives over N (for w = u^N - v^N:
/// du = u^{N-1}, dv = -v^{N-1}), i.e. exactly u - \eta \partial L / \partial u.  `gd_step` is the pure,
/// shape-generic kernel used by the single-run trainer and the batched sweep:
/// no host reads, device and dtype follow the tensors, fixed shapes.
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <torch/types.h>

#include "core/options.h"
#include "trainers/sparse/problem.h"
#include "models/diagonal_linear.h"
#include "trainers/callbacks.h"

namespace regula::sparse {

/// Per-step parameters of `gd_step`, each broadcastable against u.
struct GDParams {
  torch::Tensor eta;                    ///< step size(s) \eta
  torch::Tensor depth;                  ///< depth(s) N as floating values
  std::optional<double> uniform_depth;  ///< when every configuration has the same N (faster powers)
  /// Runs of equal depth along dim -2 (batched shapes): {first, count, N}.  When set,
  /// powers use one scalar-exponent kernel per run instead of a tensor-exponent pow.
  std::vector<std::tuple<int64_t, int64_t, double>> depth_runs;
  torch::Tensor inv_n;                  ///< 1/n, broadcastable against the residual's batch dims + [1]
  /// The form of w(u, v) (v is unused when it has no second factor).
  std::shared_ptr<const models::DiagonalParametrization> parametrization = models::diagonal_parametrization("signed");
  /// Optional precomputed 2 \eta N / n (broadcastable to u): one multiply per step
  /// instead of three.  Must be kept in sync with eta, depth and inv_n by the caller.
  torch::Tensor step_scale;
};

/// One gradient-descent step, in place on u (and v).  Shapes: u, v [d] with
/// X [n, d], y [n]; or batched u, v [P, C, d] with X [P, n, d], y [P, 1, n]
/// (C parameter sets per problem; zero-padded rows of X and y are exact no-ops).
/// Returns the loss (1/n)||Xw - y||^2 of the iterate *before* the step, on device
/// ([] or [P, C]).
torch::Tensor gd_step(torch::Tensor& u, torch::Tensor& v, const torch::Tensor& X, const torch::Tensor& y,
                      const GDParams& p);

/// w = u^N - v^N for the batched or single shapes of `gd_step`.
torch::Tensor diagonal_weight(const torch::Tensor& u, const torch::Tensor& v, const GDParams& p);

/// Turns on flush-to-zero for CPU denormals (process-wide).  GD drives the
/// factor of the wrong sign of each support coordinate (and all factors of
/// off-support ones) geometrically towards 0; denormal floats carry no
/// information there but make CPU arithmetic 10-100x slower.
void flush_denormals();

/// The message of a DivergenceError: names the step, loss, eta and alpha, and the fix.
std::string divergence_message(int64_t step, double loss, double lr, double alpha, double w0);

/// Options of DiagonalTrainer.
struct DiagonalTrainerOptions {
  explicit DiagonalTrainerOptions(double lr) : lr_(lr) {}
  /// Step size \eta.
  REGULA_ARG(double, lr);
  /// Number of steps.
  REGULA_ARG(int64_t, steps) = 10000;
  /// Evaluate metrics (host reads), callbacks' on_eval_end and the divergence check every this many steps.
  REGULA_ARG(int64_t, eval_every) = 10;
  /// Diverged when the loss exceeds this factor times the initial loss (or is not finite).
  REGULA_ARG(double, divergence_factor) = 1e6;
};

/// What a fit returns.
struct DiagonalFitResult {
  int64_t steps = 0;        ///< steps run
  std::string stop_reason;  ///< empty when all steps ran
};

/// Single-problem trainer, the one-problem case of run_batched_gd: GD steps from
/// the model's u, v (in the model's dtype: build a float64 model with
/// DiagonalLinearOptions::dtype, so it starts from \alpha itself), evaluations
/// at step 0 and every `eval_every` steps with
/// metrics train_loss, val_loss (with validation data) and error = ||w - w^*||^2
/// (with ground truth), all of the same iterate w_step, passed to callbacks
/// (EarlyStopping on val_loss with restore_best is the data-driven rule).
/// Throws DivergenceError on a non-finite or exploding loss.
class DiagonalTrainer {
 public:
  DiagonalTrainer(models::DiagonalLinear model, DiagonalTrainerOptions options);
  DiagonalFitResult fit(const SparseProblem& data, trainers::CallbackList& callbacks);

 private:
  models::DiagonalLinear model_;
  DiagonalTrainerOptions options_;
};

}  // namespace regula::sparse
