#include "trainers/sparse/gd.h"

#include <cmath>

#include <ATen/Context.h>
#include <fmt/format.h>

#include "core/errors.h"

namespace regula::sparse {
namespace {

torch::Tensor scalar_power(const torch::Tensor& u, double e) {
  if (e == 0.0) return torch::ones_like(u);
  if (e == 1.0) return u;
  return u.pow(e);
}

torch::Tensor power_minus_one(const torch::Tensor& u, const GDParams& p) {
  if (p.uniform_depth) return scalar_power(u, *p.uniform_depth - 1.0);
  if (!p.depth_runs.empty()) {
    auto out = torch::empty_like(u);
    for (const auto& [first, count, depth] : p.depth_runs) {
      auto dst = out.narrow(-2, first, count);
      const auto src = u.narrow(-2, first, count);
      if (depth == 1.0) dst.fill_(1.0);
      else if (depth == 2.0) dst.copy_(src);
      else torch::pow_out(dst, src, depth - 1.0);
    }
    return out;
  }
  return torch::pow(u, p.depth - 1.0);
}

}  // namespace

torch::Tensor diagonal_weight(const torch::Tensor& u, const torch::Tensor& v, const GDParams& p) {
  auto w = u * power_minus_one(u, p);
  if (!p.positive) w = w - v * power_minus_one(v, p);
  return w;
}

torch::Tensor gd_step(torch::Tensor& u, torch::Tensor& v, const torch::Tensor& X, const torch::Tensor& y,
                      const GDParams& p) {
  torch::NoGradGuard no_grad;
  const auto pu = power_minus_one(u, p);
  auto w = u * pu;
  torch::Tensor pv;
  if (!p.positive) {
    pv = power_minus_one(v, p);
    w.sub_(v * pv);
  }
  // One problem: matrix-vector products; batched: [P, C, d] x [P, d, n] products.
  auto r = (w.dim() == 1 ? X.mv(w) : torch::matmul(w, X.transpose(-1, -2))).sub_(y);  // [.., n]
  const auto loss = (r.square().sum(-1, /*keepdim=*/true) * p.inv_n).squeeze(-1);
  const auto scale = p.step_scale.defined() ? p.step_scale : p.eta * p.depth * p.inv_n * 2.0;
  auto step = (w.dim() == 1 ? X.t().mv(r) : torch::matmul(r, X)).mul_(scale);  // \eta N g, [.., d]
  if (!p.positive) v.addcmul_(step, pv);
  u.addcmul_(step, pu, -1.0);
  return loss;
}

void flush_denormals() { at::globalContext().setFlushDenormal(true); }

std::string divergence_message(int64_t step, double loss, double eta, double alpha, double w0) {
  return fmt::format(
      "gradient descent diverged at step {} (loss {:.4g}) with lr = {:g}, alpha = {:g} (w0 = {:g}): "
      "use a smaller train.lr or a smaller initial scale (model.w0 / model.alpha)",
      step, loss, eta, alpha, w0);
}

DiagonalTrainer::DiagonalTrainer(models::DiagonalLinear model, DiagonalTrainerOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  if (!(options_.lr() > 0)) throw ConfigError(fmt::format("lr = {} is not valid: must be > 0", options_.lr()));
  if (options_.steps() < 1 || options_.eval_every() < 1) {
    throw ConfigError(fmt::format("steps = {} / eval_every = {} are not valid: both must be >= 1",
                                  options_.steps(), options_.eval_every()));
  }
}

DiagonalFitResult DiagonalTrainer::fit(const SparseProblem& data, trainers::CallbackList& callbacks) {
  flush_denormals();
  auto& m = *model_;
  const auto opts = m.u.options();
  GDParams p;
  p.eta = torch::scalar_tensor(options_.lr(), opts.requires_grad(false));
  p.depth = torch::scalar_tensor(static_cast<double>(m.options.depth()), opts.requires_grad(false));
  p.uniform_depth = static_cast<double>(m.options.depth());
  p.inv_n = torch::scalar_tensor(1.0 / static_cast<double>(data.n()), opts.requires_grad(false));
  p.positive = m.options.positive();
  auto u = m.u.detach(), v = m.v.defined() ? m.v.detach() : torch::Tensor();
  const bool has_val = data.n_val() > 0;

  trainers::TrainState state;
  state.max_steps = options_.steps();
  state.model = &m;
  callbacks.train_begin(state);
  double loss0 = -1;
  torch::NoGradGuard no_grad;
  for (int64_t step = 1; step <= options_.steps() && !state.stop; ++step) {
    gd_step(u, v, data.X, data.y, p);
    state.step = step;
    callbacks.step_end(state);
    if (step % options_.eval_every() != 0 && step != 1) continue;
    // Every metric of an evaluation row is of the same iterate w_step (gd_step returns the
    // loss of the iterate before the step).  Host reads: evaluation steps only.
    const auto w = diagonal_weight(u, v, p);
    const double train_loss = (data.X.mv(w) - data.y).square().mean().item<double>();
    if (loss0 < 0) loss0 = std::max(train_loss, 1e-30);
    if (!std::isfinite(train_loss) || train_loss > options_.divergence_factor() * loss0) {
      throw DivergenceError(divergence_message(step, train_loss, options_.lr(), m.options.init_scale(), m.options.w0()));
    }
    state.metrics["train_loss"] = train_loss;
    if (has_val) state.metrics["val_loss"] = (data.X_val.mv(w) - data.y_val).square().mean().item<double>();
    if (data.has_truth()) state.metrics["error"] = (w - data.w_star).square().sum().item<double>();
    callbacks.eval_end(state);
  }
  callbacks.train_end(state);
  return {state.step, state.stop_reason};
}

}  // namespace regula::sparse
