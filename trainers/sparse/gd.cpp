#include "trainers/sparse/gd.h"

#include <cmath>

#include <ATen/Context.h>
#include <fmt/format.h>

#include "core/errors.h"
#include "trainers/sparse/batched_gd.h"

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
  return p.parametrization->weight(u, v, [&p](const torch::Tensor& x) { return power_minus_one(x, p); });
}

torch::Tensor gd_step(torch::Tensor& u, torch::Tensor& v, const torch::Tensor& X, const torch::Tensor& y,
                      const GDParams& p) {
  torch::NoGradGuard no_grad;
  const auto parts = p.parametrization->parts(u, v, [&p](const torch::Tensor& x) { return power_minus_one(x, p); });
  const auto& w = parts.w;
  // One problem: matrix-vector products; batched: [P, C, d] x [P, d, n] products.
  auto r = (w.dim() == 1 ? X.mv(w) : torch::matmul(w, X.transpose(-1, -2))).sub_(y);  // [.., n]
  const auto loss = (r.square().sum(-1, /*keepdim=*/true) * p.inv_n).squeeze(-1);
  const auto scale = p.step_scale.defined() ? p.step_scale : p.eta * p.depth * p.inv_n * 2.0;
  auto step = (w.dim() == 1 ? X.t().mv(r) : torch::matmul(r, X)).mul_(scale);  // \eta N g, [.., d]
  if (parts.dv.defined()) v.addcmul_(step, parts.dv, -1.0);
  u.addcmul_(step, parts.du, -1.0);
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
  // The one-problem case of the batched engine: the same loop, divergence check and logs, with
  // the model's factors as the state and the callbacks called at every evaluation.
  auto& m = *model_;
  const auto dtype = m.u.scalar_type();
  const auto device = m.u.device();
  const auto pb = stack_problems({data}, device, dtype);
  const auto sync = [&m](const torch::Tensor& u, const torch::Tensor& v) {
    torch::NoGradGuard no_grad;
    m.u.copy_(u.reshape({-1}));
    if (m.v.defined()) m.v.copy_(v.reshape({-1}));
  };
  const auto res = run_batched_gd(pb, {{m.options.depth(), m.options.init_scale(), options_.lr()}},
                                  BatchedGDOptions()
                                      .steps(options_.steps())
                                      .eval_every(options_.eval_every())
                                      .flush_every(1)
                                      .parametrization(m.options.parametrization())
                                      .divergence_factor(options_.divergence_factor())
                                      .throw_on_divergence(true)
                                      .initial_u(m.u.detach())
                                      .initial_v(m.v.defined() ? m.v.detach() : torch::Tensor())
                                      .callbacks(&callbacks)
                                      .on_state(sync)
                                      .model(&m));
  return {res.steps_run, res.stop_reason};
}

}  // namespace regula::sparse
