#include "trainers/sparse/batched_gd.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <limits>

#include <ATen/Context.h>
#include <fmt/format.h>

#include "core/matmul.h"
#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/run.h"
#include "trainers/sparse/gd.h"
#include "trainers/sparse/gd_kernels.h"

namespace regula::sparse {
namespace {

torch::Tensor pad_rows(const torch::Tensor& t, int64_t rows) {
  if (t.size(0) == rows) return t;
  auto sizes = t.sizes().vec();
  sizes[0] = rows - t.size(0);
  return torch::cat({t, torch::zeros(sizes, t.options())}, 0);
}

// Per run, the iterate of least `score` seen so far: the oracle best (score = error), the
// validation-selected one (score = validation loss) and the early-stopped one (the same, until
// `patience_steps` steps pass without a better score; 0: no patience, it never stops).
struct BestIterate {
  torch::Tensor score, step, error, w, stop_step;
  void init(int64_t P, int64_t C, int64_t d, const torch::TensorOptions& opts) {
    score = torch::full({P, C}, std::numeric_limits<double>::infinity(), opts);
    step = torch::zeros({P, C}, opts);
    error = torch::full({P, C}, std::numeric_limits<double>::infinity(), opts);
    w = torch::zeros({P, C, d}, opts);
    stop_step = torch::full({P, C}, -1.0, opts);
  }
  bool defined() const { return score.defined(); }
  void update(const torch::Tensor& s, const torch::Tensor& err, const torch::Tensor& iterate, double t,
              int64_t patience_steps) {
    // Without patience nothing ever stops: skip the mask.
    const auto running = patience_steps > 0 ? stop_step.lt(0) : torch::Tensor();
    const auto better = patience_steps > 0 ? running.logical_and(s < score) : s < score;
    score = torch::where(better, s, score);
    step = torch::where(better, torch::full_like(step, t), step);
    error = torch::where(better, err, error);
    w = torch::where(better.unsqueeze(-1), iterate, w);
    if (patience_steps > 0) {
      const auto out = running.logical_and(step.le(t - static_cast<double>(patience_steps)));
      stop_step = torch::where(out, torch::full_like(stop_step, t), stop_step);
    }
  }
  void named(const std::string& prefix, std::vector<std::pair<std::string, torch::Tensor*>>& out) {
    for (auto& [name, t] : std::vector<std::pair<std::string, torch::Tensor*>>{
             {"score", &score}, {"step", &step}, {"error", &error}, {"w", &w}, {"stop_step", &stop_step}}) {
      out.emplace_back(prefix + "." + name, t);
    }
  }
};

// What a run carries from step to step, on its device: the content of a checkpoint with the logs
// (the step sizes in `p` change when diverged runs are frozen).
struct RunState {
  GDParams p;
  torch::Tensor u, v, loss0, diverged;
  BestIterate best, val_selected, early_stopped;
  std::vector<std::pair<std::string, torch::Tensor*>> named() {
    std::vector<std::pair<std::string, torch::Tensor*>> out{{"u", &u}, {"v", &v}, {"eta", &p.eta},
                                                            {"step_scale", &p.step_scale}, {"loss0", &loss0},
                                                            {"diverged", &diverged}};
    best.named("best", out);
    val_selected.named("val_selected", out);
    early_stopped.named("early_stopped", out);
    return out;
  }
};

// FNV-1a over the bytes of the problems' tensors: the data a checkpoint belongs to (exact,
// whatever the thread count or device that computed anything else).
uint64_t data_fingerprint(const BatchedProblems& pb) {
  uint64_t h = 1469598103934665603ull;
  for (const auto* t : {&pb.X, &pb.y, &pb.X_val, &pb.y_val, &pb.w_star}) {
    if (!t->defined()) continue;
    const auto c = t->to(torch::kCPU).contiguous();
    const auto* bytes = static_cast<const unsigned char*>(c.data_ptr());
    for (std::size_t i = 0; i < c.nbytes(); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  }
  return h;
}

// What must not change between a checkpoint and its resumption (steps may grow): one
// "key=value" per line, so a refusal can name the first difference.
std::string run_signature(const BatchedProblems& pb, const std::vector<GDConfig>& configs, const BatchedGDOptions& o) {
  std::string s = fmt::format("problems={}\nrows={}\nd={}\ndtype={}\nparametrization={}\neval_every={}\npath_coords={}\n"
                              "divergence_factor={:.17g}\npatience_steps={}\nconfigurations=",
                              pb.problems(), pb.X.size(1), pb.dim(), c10::toString(pb.X.scalar_type()), o.parametrization(),
                              o.eval_every(), o.path_coords(), o.divergence_factor(), o.patience_steps());
  for (const auto& c : configs) s += fmt::format("(N {}, alpha {:.17g}, eta {:.17g})", c.depth, c.alpha, c.eta);
  return s + fmt::format("\ndata (seeds, noise, files) fingerprint={:016x}", data_fingerprint(pb));
}

// Logged metrics of every run as [runs, L] tensors (float64, CPU), in the order of BatchedGDResult.
std::vector<std::pair<std::string, std::vector<std::vector<double>>*>> logged_series(BatchedGDResult& res) {
  return {{"error", &res.error}, {"support_dev", &res.support_dev}, {"off_max", &res.off_max},
          {"train_loss", &res.train_loss}, {"val_loss", &res.val_loss}, {"paths", &res.paths}};
}

torch::Tensor rows_to_tensor(const std::vector<std::vector<double>>& rows) {
  const int64_t R = static_cast<int64_t>(rows.size()), L = R ? static_cast<int64_t>(rows[0].size()) : 0;
  auto t = torch::empty({R, L}, torch::kDouble);
  for (int64_t r = 0; r < R; ++r) std::copy(rows[r].begin(), rows[r].end(), t[r].data_ptr<double>());
  return t;
}

void save_checkpoint(const std::string& path, const std::string& signature, int64_t step, RunState& st,
                     BatchedGDResult& res) {
  core::CheckpointWriter w;
  w.text("batched_gd.signature", signature).integer("batched_gd.step", step);
  for (auto& [name, t] : st.named()) {
    if (t->defined()) w.tensor("state." + name, *t);
  }
  w.tensor("log.steps", torch::tensor(res.steps, torch::kLong));
  for (auto& [name, rows] : logged_series(res)) w.tensor("log." + name, rows_to_tensor(*rows));
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  w.commit(path);
}

int64_t load_checkpoint(const std::string& path, const std::string& signature, RunState& st, BatchedGDResult& res) {
  core::CheckpointReader r(path);
  const auto saved = r.text("batched_gd.signature");
  if (saved != signature) {
    throw CheckpointError(fmt::format("checkpoint '{}' belongs to a different run ({}): resume with the run's own "
                                      "config, or start a new run", path, core::first_difference(saved, signature)));
  }
  for (auto& [name, t] : st.named()) {
    if (!t->defined()) continue;
    const auto loaded = r.tensor("state." + name);
    if (loaded.sizes() != t->sizes()) {
      throw CheckpointError(fmt::format("checkpoint '{}': state '{}' has the wrong shape: start a new run", path, name));
    }
    *t = loaded.to(t->options()).contiguous();
  }
  const auto steps = r.tensor("log.steps").contiguous();
  res.steps.assign(steps.data_ptr<int64_t>(), steps.data_ptr<int64_t>() + steps.numel());
  const int64_t step = r.integer("batched_gd.step"), logs = static_cast<int64_t>(res.steps.size());
  if (res.steps.empty() || res.steps.back() != step) {
    throw CheckpointError(fmt::format("checkpoint '{}' is inconsistent (step {} is not its last log): start a new run",
                                      path, step));
  }
  for (auto& [name, rows] : logged_series(res)) {
    const auto t = r.tensor("log." + name).to(torch::kDouble).contiguous();
    const int64_t per_log = name == "paths" ? static_cast<int64_t>(res.path_index.size()) : 1;
    if (t.dim() != 2 || t.size(0) != static_cast<int64_t>(rows->size()) || t.size(1) != logs * per_log) {
      throw CheckpointError(fmt::format("checkpoint '{}': log '{}' has the wrong shape: start a new run", path, name));
    }
    for (int64_t i = 0; i < t.size(0); ++i) (*rows)[i].assign(t[i].data_ptr<double>(), t[i].data_ptr<double>() + t.size(1));
  }
  return step;
}

}  // namespace

void check_batched_fits(double problems, double rows, double d, double configs, const std::string& what_to_reduce) {
  core::check_fits_in_memory(8.0 * (4.0 * problems * rows * d + 12.0 * problems * configs * d), what_to_reduce);
}

BatchedProblems slice_problems(const BatchedProblems& b, int64_t begin, int64_t end) {
  const auto cut = [&](const torch::Tensor& t) { return t.defined() ? t.slice(0, begin, end).contiguous() : t; };
  BatchedProblems out = b;
  for (auto* t : {&out.X, &out.y, &out.inv_n, &out.Xt, &out.X_val, &out.y_val, &out.inv_n_val, &out.w_star, &out.support}) {
    *t = cut(*t);
  }
  return out;
}

BatchedProblems stack_problems(const std::vector<SparseProblem>& problems, torch::Device device,
                               torch::ScalarType dtype) {
  if (problems.empty()) throw ConfigError("a sweep needs at least one problem");
  const int64_t d = problems.front().d();
  int64_t n_max = 0, m_max = 0;
  for (const auto& p : problems) {
    if (p.d() != d) throw DataError(fmt::format("problems of a sweep must share d: got {} and {}", d, p.d()));
    if (p.has_truth() != problems.front().has_truth()) {
      throw DataError("problems of one batched run must all have a ground truth w*, or none");
    }
    n_max = std::max(n_max, p.n());
    m_max = std::max(m_max, p.n_val());
  }
  std::vector<torch::Tensor> X, y, inv_n, Xv, yv, inv_m, w;
  for (const auto& p : problems) {
    X.push_back(pad_rows(p.X, n_max));
    y.push_back(pad_rows(p.y, n_max));
    inv_n.push_back(torch::full({1}, 1.0 / static_cast<double>(p.n()), torch::kDouble));
    w.push_back(p.has_truth() ? p.w_star : torch::zeros({d}, torch::kDouble));  // no w*: errors measure ||w||^2
    if (m_max > 0) {
      Xv.push_back(pad_rows(p.X_val.defined() ? p.X_val : torch::zeros({0, d}, torch::kDouble), m_max));
      yv.push_back(pad_rows(p.y_val.defined() ? p.y_val : torch::zeros({0}, torch::kDouble), m_max));
      inv_m.push_back(torch::full({1}, p.n_val() > 0 ? 1.0 / static_cast<double>(p.n_val()) : 0.0, torch::kDouble));
    }
  }
  const auto to = [&](const torch::Tensor& t) { return t.to(device, dtype).contiguous(); };
  BatchedProblems b;
  b.X = to(torch::stack(X));
  b.Xt = b.X.transpose(1, 2).contiguous();
  b.y = to(torch::stack(y).unsqueeze(1));
  b.inv_n = to(torch::stack(inv_n).view({-1, 1, 1}));
  if (m_max > 0) {
    b.X_val = to(torch::stack(Xv));
    b.y_val = to(torch::stack(yv).unsqueeze(1));
    b.inv_n_val = to(torch::stack(inv_m).view({-1, 1, 1}));
  }
  b.w_star = to(torch::stack(w).unsqueeze(1));
  b.support = b.w_star.ne(0);
  b.has_truth = problems.front().has_truth();
  return b;
}

BatchedGDResult run_batched_gd(const BatchedProblems& pb, const std::vector<GDConfig>& configs,
                               const BatchedGDOptions& o) {
  if (configs.empty()) throw ConfigError("a sweep needs at least one configuration");
  if (o.steps() < 1 || o.eval_every() < 1 || o.flush_every() < 1) {
    throw ConfigError(fmt::format("steps = {}, eval_every = {} must be >= 1", o.steps(), o.eval_every()));
  }
  torch::NoGradGuard no_grad;
  flush_denormals();
  const int64_t P = pb.problems(), C = static_cast<int64_t>(configs.size()), d = pb.dim();
  const auto opts = pb.X.options();
  std::vector<double> eta_h, depth_h, alpha_h;
  std::vector<int64_t> depths;
  for (const auto& c : configs) {
    if (c.depth < 1 || !(c.alpha > 0) || !(c.eta > 0)) {
      throw ConfigError(fmt::format("configuration N = {}, alpha = {}, eta = {} is not valid: need N >= 1, alpha > 0, eta > 0",
                                    c.depth, c.alpha, c.eta));
    }
    eta_h.push_back(c.eta);
    depth_h.push_back(static_cast<double>(c.depth));
    depths.push_back(c.depth);
    alpha_h.push_back(c.alpha);
  }
  const auto col = [&](const std::vector<double>& v) { return torch::tensor(v, torch::kDouble).to(opts).view({1, C, 1}); };
  const auto eta = col(eta_h), alpha = col(alpha_h);
  RunState st;
  GDParams& p = st.p;
  p.depth = col(depth_h);
  if (std::all_of(depth_h.begin(), depth_h.end(), [&](double x) { return x == depth_h[0]; })) {
    p.uniform_depth = depth_h[0];
  } else {
    for (int64_t c = 0; c < C; ++c) {
      if (c > 0 && depth_h[static_cast<std::size_t>(c)] == std::get<2>(p.depth_runs.back())) {
        ++std::get<1>(p.depth_runs.back());
      } else {
        p.depth_runs.emplace_back(c, 1, depth_h[static_cast<std::size_t>(c)]);
      }
    }
    if (static_cast<int64_t>(p.depth_runs.size()) * 2 > C) p.depth_runs.clear();  // interleaved depths: one tensor pow
  }
  p.inv_n = pb.inv_n;
  p.parametrization = models::diagonal_parametrization(o.parametrization());
  const bool has_v = p.parametrization->has_v();
  p.eta = eta.expand({P, C, 1}).contiguous();
  p.step_scale = p.eta * p.depth * p.inv_n * 2.0;  // [P, C, 1]

  auto& u = st.u;
  auto& v = st.v;
  const auto initial = [&](const torch::Tensor& given) {  // a factor [d] for every run, or alpha
    return (given.defined() ? given.to(opts).reshape({1, 1, d}).expand({P, C, d}) : alpha.expand({P, C, d})).contiguous();
  };
  u = initial(o.initial_u());
  if (has_v) v = initial(o.initial_v());
  const bool has_val = pb.X_val.defined();
  const bool early_stopping = has_val && o.patience_steps() > 0;
  st.best.init(P, C, d, opts);
  if (has_val) st.val_selected.init(P, C, d, opts);
  if (early_stopping) st.early_stopped.init(P, C, d, opts);
  auto& diverged = st.diverged = torch::zeros({P, C}, opts.dtype(torch::kBool));
  auto& loss0 = st.loss0 = torch::zeros({P, C}, opts);  // set at step 0
  const auto off_mask = pb.support.logical_not();

  // Paths: the first `path_coords` support coordinates of problem 0.
  BatchedGDResult res;
  res.problems = P;
  res.configs = C;
  torch::Tensor path_idx;
  if (o.path_coords() > 0) {
    path_idx = pb.support[0][0].nonzero().flatten().slice(0, 0, o.path_coords());
    const auto h = path_idx.cpu();
    for (int64_t i = 0; i < h.size(0); ++i) res.path_index.push_back(h[i].item<int64_t>());
  }
  const auto runs = static_cast<std::size_t>(P * C);
  for (auto* v_ : {&res.error, &res.support_dev, &res.off_max, &res.train_loss, &res.val_loss}) v_->resize(runs);
  res.paths.resize(static_cast<std::size_t>(C));

  std::vector<torch::Tensor> pending, pending_paths;
  auto flush = [&] {
    if (pending.empty()) return;
    const auto m = torch::stack(pending).to(torch::kCPU, torch::kDouble).contiguous();  // [L, 5, P, C]
    const auto a = m.accessor<double, 4>();
    for (int64_t l = 0; l < a.size(0); ++l) {
      for (int64_t r = 0; r < P * C; ++r) {
        const auto i = static_cast<std::size_t>(r);
        res.error[i].push_back(a[l][0][r / C][r % C]);
        res.support_dev[i].push_back(a[l][1][r / C][r % C]);
        res.off_max[i].push_back(a[l][2][r / C][r % C]);
        res.train_loss[i].push_back(a[l][3][r / C][r % C]);
        res.val_loss[i].push_back(a[l][4][r / C][r % C]);
      }
    }
    if (!pending_paths.empty()) {
      const auto pp = torch::stack(pending_paths).to(torch::kCPU, torch::kDouble).contiguous();  // [L, C, K]
      const auto b = pp.accessor<double, 3>();
      for (int64_t l = 0; l < b.size(0); ++l)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t k = 0; k < b.size(2); ++k) res.paths[static_cast<std::size_t>(c)].push_back(b[l][c][k]);
    }
    pending.clear();
    pending_paths.clear();
    if (o.throw_on_divergence()) {
      const auto dv = diverged.cpu();
      if (dv.any().item<bool>()) {
        // The step it happened at, from the logs (the run was frozen there, the others went on).
        const auto idx = static_cast<std::size_t>(dv.flatten().nonzero()[0].item<int64_t>());
        const auto& losses = res.train_loss[idx];
        const double first = std::max(losses.front(), 1e-30);
        std::size_t at = 0;
        while (at + 1 < losses.size() && std::isfinite(losses[at]) && losses[at] <= first * o.divergence_factor()) ++at;
        const auto& c = configs[idx % static_cast<std::size_t>(C)];
        throw DivergenceError(divergence_message(res.steps[at], losses[at], c.eta, c.alpha,
                                                 std::pow(c.alpha, static_cast<double>(c.depth))));
      }
    }
  };

  // CPU: the products into reused buffers and one fused elementwise pass that also keeps
  // w = u^N - v^N current; elsewhere gd_step's tensor ops, w recomputed when logged.
  const bool fused = o.fused() && pb.X.device().is_cpu() &&
                     (o.parametrization() == "signed" || o.parametrization() == "positive");  // the kernel's forms
  torch::Tensor w, r, g;
  if (fused) {
    r = torch::empty({P, C, pb.X.size(1)}, opts);
    g = torch::empty({P, C, d}, opts);
  }
  // Few parameter sets per problem and a design beyond the caches: both products of a step (and
  // the logged loss) in one pass over X, read as int8 when that is exact (the +-1 designs).
  torch::Tensor X_one_pass;
  if (fused && C <= kMaxOnePassConfigs && pb.X.size(1) * d >= o.one_pass_min_entries()) {
    if (o.int8_design()) X_one_pass = exact_int8(pb.X);
    if (!X_one_pass.defined()) X_one_pass = pb.X.contiguous();
  }
  const auto train_residual = [&](const torch::Tensor& w_now) {
    if (!X_one_pass.defined()) return torch::matmul(w_now, pb.Xt) - pb.y;
    design_products(X_one_pass, w_now, pb.y, r);
    return r;
  };
  // Checkpoints: written after the log of step t (and its flush), before step t is applied.
  const bool checkpointing = o.checkpoint_every() > 0 && !o.checkpoint_path().empty();
  const auto signature = checkpointing || o.resume() ? run_signature(pb, configs, o) : std::string();
  int64_t t_start = 0, last_checkpoint = 0;
  if (o.resume() && !std::filesystem::exists(o.checkpoint_path())) {
    core::log_info("no checkpoint at '{}' yet: starting at step 0", o.checkpoint_path());
  } else if (o.resume()) {
    t_start = load_checkpoint(o.checkpoint_path(), signature, st, res);
    last_checkpoint = t_start;
    w = diagonal_weight(u, v, p);
    if (t_start > o.steps()) {
      throw CheckpointError(fmt::format("checkpoint '{}' is at step {}, beyond steps = {}: raise train.steps "
                                        "to continue it", o.checkpoint_path(), t_start, o.steps()));
    }
    core::log_info("resumed {} runs at step {} from {}", P * C, t_start, o.checkpoint_path());
  }
  const auto w_init = diagonal_weight(alpha.expand({P, C, d}), has_v ? alpha.expand({P, C, d}) : torch::Tensor(), p);
  if (o.on_start()) o.on_start()();
  trainers::TrainState state;
  state.max_steps = o.steps();
  state.step = t_start;
  state.model = o.model();
  auto* callbacks = o.callbacks();
  const bool single = P * C == 1;
  if (callbacks) callbacks->train_begin(state);
  for (int64_t t = t_start; t <= o.steps(); ++t) {
    const bool logged_before_checkpoint = t == t_start && t_start > 0;
    if (!logged_before_checkpoint && (t % o.eval_every() == 0 || t == o.steps())) {
      w = diagonal_weight(u, v, p);
      const auto train = train_residual(w).square().sum(-1) * pb.inv_n.squeeze(-1);
      if (t == 0) loss0 = train.clamp_min(1e-30);
      const auto bad = train.isfinite().logical_not().logical_or(train > loss0 * o.divergence_factor());
      const auto newly = bad.logical_and(diverged.logical_not());
      diverged.logical_or_(bad);
      const auto err = (w - pb.w_star).square().sum(-1);
      const auto diff = (w - pb.w_star).abs();
      const auto sdev = diff.masked_fill(off_mask, 0).amax(-1);
      const auto offm = w.abs().masked_fill(pb.support, 0).amax(-1);
      auto val = torch::full_like(train, std::numeric_limits<double>::quiet_NaN());
      if (has_val) val = (torch::matmul(w, pb.X_val.transpose(-1, -2)) - pb.y_val).square().sum(-1) * pb.inv_n_val.squeeze(-1);
      pending.push_back(torch::stack({err, sdev, offm, train, val}));
      if (path_idx.defined()) pending_paths.push_back(w[0].index_select(-1, path_idx));
      res.steps.push_back(t);
      const auto tt = static_cast<double>(t);
      st.best.update(err, err, w, tt, 0);
      if (has_val) st.val_selected.update(val, err, w, tt, 0);
      if (early_stopping) st.early_stopped.update(val, err, w, tt, o.patience_steps());
      // Freeze diverged runs: reset their state and zero their step size (no NaNs spread). With
      // throw_on_divergence the next flush reports the step from the logs; no host read here.
      const auto m3 = newly.unsqueeze(-1);
      u = torch::where(m3, alpha.expand_as(u), u);
      if (v.defined()) v = torch::where(m3, alpha.expand_as(v), v);
      p.eta = p.eta.masked_fill(m3, 0);
      p.step_scale = p.step_scale.masked_fill(m3, 0);
      w = torch::where(m3, w_init, w);
      if (static_cast<int64_t>(pending.size()) >= o.flush_every() || (single && callbacks)) flush();
      if (single && callbacks) {
        const auto i = std::size_t{0};
        state.step = t;
        state.metrics["train_loss"] = res.train_loss[i].back();
        if (has_val) state.metrics["val_loss"] = res.val_loss[i].back();
        if (pb.has_truth) state.metrics["error"] = res.error[i].back();
        if (o.on_state()) o.on_state()(u, v);
        callbacks->eval_end(state);
      }
      if (checkpointing && t > 0 && (t - last_checkpoint >= o.checkpoint_every() || t == o.steps())) {
        flush();
        save_checkpoint(o.checkpoint_path(), signature, t, st, res);
        last_checkpoint = t;
      }
    }
    if (t == o.steps() || state.stop) break;
    if (X_one_pass.defined()) {
      design_products(X_one_pass, w, pb.y, r, &g);
      fused_descent(u, v, w, g, p.step_scale, depths);
    } else if (fused) {
      core::bmm_out(r, w, pb.Xt);
      r.sub_(pb.y);
      core::bmm_out(g, r, pb.X);
      fused_descent(u, v, w, g, p.step_scale, depths);
    } else {
      gd_step(u, v, pb.X, pb.y, p);
    }
    state.step = t + 1;
    if (callbacks) callbacks->step_end(state);
  }
  flush();
  res.steps_run = state.step;
  res.stop_reason = state.stop_reason;
  if (o.on_state()) o.on_state()(u, v);
  if (callbacks) callbacks->train_end(state);
  res.best_w = st.best.w;
  res.best_error = st.best.error.to(torch::kCPU, torch::kDouble);
  res.best_step = st.best.step.to(torch::kCPU, torch::kLong);
  if (has_val) {
    res.val_best_w = st.val_selected.w;
    res.val_best_error = st.val_selected.error.to(torch::kCPU, torch::kDouble);
    res.val_best_step = st.val_selected.step.to(torch::kCPU, torch::kLong);
  }
  if (early_stopping) {
    res.es_w = st.early_stopped.w;
    res.es_step = st.early_stopped.step.to(torch::kCPU, torch::kLong);
    res.es_error = st.early_stopped.error.to(torch::kCPU, torch::kDouble);
    res.es_val_loss = st.early_stopped.score.to(torch::kCPU, torch::kDouble);
    res.es_stop_step = st.early_stopped.stop_step.to(torch::kCPU, torch::kLong);
  }
  res.final_w = diagonal_weight(u, v, p);
  const auto dv = diverged.flatten().cpu().to(torch::kUInt8);
  res.diverged.assign(dv.data_ptr<uint8_t>(), dv.data_ptr<uint8_t>() + dv.numel());
  return res;
}

}  // namespace regula::sparse
