// regula recover: one sparse-recovery problem (and its replicates), several
// depths, oracle windows, data-driven early stopping and the baselines.
// The depth x replicate runs advance as one batched computation.
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "apps/commands.h"
#include "apps/sparse_common.h"
#include "core/errors.h"
#include "core/image.h"
#include "core/logging.h"
#include "core/plot.h"
#include "core/tabular.h"
#include "trainers/baselines.h"
#include "trainers/batched_gd.h"
#include "trainers/diagonal_gd.h"
#include "trainers/recovery_metrics.h"

namespace regula::apps {
namespace {

const char* kRecoverDefaults = R"(# regula recover: experiment 2 (early-stopping window vs depth), shortened
name: recover
device: auto
seed: 0
dtype: float32
data:
  source: synthetic      # synthetic | files | digit | mnist
  n: 100
  d: 200
  k: 5
  support_values: [1]
  sigma: 0.5
  design: rademacher
  val_ratio: 0.25        # validation measurements per training measurement
  replicates: 10
model:
  depths: [2, 3, 4]
  w0: 1.0e-5             # or alpha: (initial scale of u and v)
  positive: false
train:
  eta: 1.0e-2            # one value, or one per depth
  max_steps: 3000
  log_every: 10
  divergence_factor: 1.0e6
  checkpoint_every: 1000 # steps between checkpoints (0: none); continue with --resume <run dir>
  early_stopping:
    enabled: true
    patience: 30
windows:
  coord_tol: 0.1
  off_threshold: -1      # <= 0: w0^(1/4)
  error_factor: 1.4142135623730951
baselines:
  min_norm: true
  lasso: true
  lasso_lambdas: 30
  lasso_iterations: 500
  replicates: 10         # baselines run on the first this many replicates
log:
  path_coords: 10
)";

double median(std::vector<double> v) { return trainers::quantile(std::move(v), 0.5); }

double psnr(const torch::Tensor& w, const torch::Tensor& w_star) {
  const double mse = (w - w_star).square().mean().item<double>();
  return 10.0 * std::log10(1.0 / std::max(mse, 1e-30));
}

struct MethodRow {
  std::string method;
  int64_t depth = 0;
  double eta = NAN, w0 = NAN, alpha = NAN;
  double best_error = NAN, best_step = NAN;
  trainers::Window coord, err;
  double val_sel_error = NAN, es_step = NAN, es_error = NAN, psnr = NAN;
  std::string note;
};

MethodRow depth_row(const trainers::GDConfig& cfg) {
  MethodRow row;
  row.method = fmt::format("depth {}", cfg.depth);
  row.depth = cfg.depth;
  row.eta = cfg.eta;
  row.alpha = cfg.alpha;
  row.w0 = std::pow(cfg.alpha, static_cast<double>(cfg.depth));
  return row;
}

}  // namespace

void run_recover(const RunArgs& args, const std::string& defaults, const std::string& command) {
  auto config = load_config(args, defaults, command);
  auto root = config.root();
  const auto run = read_run_spec(root, "recover");
  const auto& spec = run.data;
  const auto device = run.device;
  const auto dtype = run.dtype;
  auto data = root.section("data");
  const int64_t n = data.get<int64_t>("n", 100);  // ignored for files
  data.check(n >= 1, "n", "must be >= 1");
  const int64_t replicates_given = data.get<int64_t>("replicates", 1);
  data.check(replicates_given >= 1, "replicates", "must be >= 1");
  const int64_t replicates = spec.source == "files" ? 1 : replicates_given;  // one problem from files
  const auto grid = read_grid(root, /*scale_list=*/false);
  auto train = root.section("train");
  train.check(grid.eta.size() == 1 || grid.eta.size() == grid.depths.size(), "eta",
              fmt::format("one step size, or one per depth ({} values)", grid.depths.size()));
  const auto max_steps = grid.max_steps, log_every = grid.log_every;
  const auto div_factor = grid.divergence_factor;
  const bool positive = grid.positive;
  const auto seed = run.seed;
  const auto& name = run.name;
  auto es_sec = train.section("early_stopping");
  const bool es_enabled = es_sec.get<bool>("enabled", true);
  const auto patience = es_sec.get<int64_t>("patience", 30);
  es_sec.check(patience >= 1, "patience", "must be >= 1");
  const auto windows = read_window_spec(root.section("windows"));
  auto bl = root.section("baselines");
  const bool do_min_norm = bl.get<bool>("min_norm", true), do_lasso = bl.get<bool>("lasso", true);
  const auto lasso_opts = trainers::LassoOptions().lambdas(bl.get<int64_t>("lasso_lambdas", 30))
                              .iterations(bl.get<int64_t>("lasso_iterations", 500))
                              .nonnegative(grid.positive);
  const auto bl_reps = std::min(replicates, bl.get<int64_t>("replicates", 10));
  const auto path_coords = root.section("log").get<int64_t>("path_coords", 10);
  config.finish();

  const auto dir = create_run_dir(args, name, config);
  std::vector<core::SparseProblem> problems;
  for (int64_t r = 0; r < replicates; ++r) problems.push_back(spec.make(n, seed + static_cast<uint64_t>(r)).to(device, dtype));
  const auto& p0 = problems.front();
  const bool truth = p0.has_truth();
  core::log_info("data: {} with n = {}, n_val = {}, d = {}{}, {} replicate(s)", spec.source, p0.n(), p0.n_val(), p0.d(),
                 truth ? fmt::format(", k = {}", p0.support().size(0)) : std::string(", no w*"), replicates);

  std::vector<trainers::GDConfig> configs;
  for (std::size_t i = 0; i < grid.depths.size(); ++i) {
    configs.push_back({grid.depths[i], grid.alpha(0, grid.depths[i]), grid.eta.size() == 1 ? grid.eta[0] : grid.eta[i]});
  }
  auto w0_of = [&](const trainers::GDConfig& c) { return std::pow(c.alpha, static_cast<double>(c.depth)); };

  std::vector<MethodRow> rows;
  std::vector<std::pair<std::string, torch::Tensor>> estimates;  // for images (replicate 0)
  if (!truth) record_resumed_config(args, dir, config);  // no batched run: nothing to resume but the config
  if (truth) {
    const auto batched = trainers::stack_problems(problems, device, dtype);
    core::log_info("batched GD: {} depth(s) x {} replicate(s), {} steps ...", configs.size(), replicates, max_steps);
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = trainers::run_batched_gd(
        batched, configs,
        grid.batched_options(args, dir, config).throw_on_divergence(true).path_coords(path_coords));
    core::log_info("{} runs x {} steps in {:.2f} s", res.problems * res.configs, max_steps,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    core::CsvWriter curves(dir.file("curves.csv"), {"depth", "step", "median_log2_error", "q25_log2_error",
                                                     "q75_log2_error", "median_train_loss", "median_val_loss"});
    std::vector<std::string> path_cols{"depth", "step"};
    for (auto i : res.path_index) path_cols.push_back(fmt::format("w{}", i));
    path_cols.push_back("off_max");
    core::CsvWriter paths(dir.file("paths.csv"), path_cols);
    core::CsvWriter runs(dir.file("runs.csv"), {"depth", "replicate", "best_error", "best_step", "coord_start",
                                                "coord_end", "err_start", "err_end", "val_sel_error", "val_sel_step"});
    for (int64_t c = 0; c < res.configs; ++c) {
      const auto& cfg = configs[static_cast<std::size_t>(c)];
      const double thr = windows.threshold(w0_of(cfg));
      std::vector<std::vector<double>> log_err, tr, va;
      std::vector<double> cs, ce, best, best_t, vsel;
      for (int64_t p = 0; p < res.problems; ++p) {
        const auto i = static_cast<std::size_t>(res.index(p, c));
        const auto cw = trainers::coordinate_window(res.steps, res.support_dev[i], res.off_max[i], windows.coord_tol, thr);
        const auto ew = trainers::error_window(res.steps, res.error[i], windows.error_factor);
        std::vector<double> le(res.error[i].size());
        for (std::size_t t = 0; t < le.size(); ++t) le[t] = std::log2(res.error[i][t]);
        log_err.push_back(le);
        tr.push_back(res.train_loss[i]);
        va.push_back(res.val_loss[i]);
        cs.push_back(cw.empty() ? NAN : double(cw.start));
        ce.push_back(cw.empty() ? NAN : double(cw.end));
        best.push_back(res.best_error[p][c].item<double>());
        best_t.push_back(double(res.best_step[p][c].item<int64_t>()));
        const double vs = res.val_best_error.defined() ? res.val_best_error[p][c].item<double>() : NAN;
        vsel.push_back(vs);
        runs.row({{"depth", double(cfg.depth)}, {"replicate", double(p)}, {"best_error", best.back()},
                  {"best_step", best_t.back()}, {"coord_start", cs.back()}, {"coord_end", ce.back()},
                  {"err_start", double(ew.start)}, {"err_end", double(ew.end)}, {"val_sel_error", vs},
                  {"val_sel_step", res.val_best_step.defined() ? double(res.val_best_step[p][c].item<int64_t>()) : NAN}});
      }
      const auto med = trainers::quantile_curve(log_err, 0.5), q25 = trainers::quantile_curve(log_err, 0.25),
                 q75 = trainers::quantile_curve(log_err, 0.75), mtr = trainers::quantile_curve(tr, 0.5),
                 mva = trainers::quantile_curve(va, 0.5);
      for (std::size_t t = 0; t < res.steps.size(); ++t) {
        curves.row({{"depth", double(cfg.depth)}, {"step", double(res.steps[t])}, {"median_log2_error", med[t]},
                    {"q25_log2_error", q25[t]}, {"q75_log2_error", q75[t]}, {"median_train_loss", mtr[t]},
                    {"median_val_loss", mva[t]}});
        std::map<std::string, double> pr{{"depth", double(cfg.depth)}, {"step", double(res.steps[t])},
                                         {"off_max", res.off_max[static_cast<std::size_t>(res.index(0, c))][t]}};
        for (std::size_t k = 0; k < res.path_index.size(); ++k) {
          pr[fmt::format("w{}", res.path_index[k])] = res.paths[static_cast<std::size_t>(c)][t * res.path_index.size() + k];
        }
        paths.row(pr);
      }
      std::vector<double> med_err(med.size());
      for (std::size_t t = 0; t < med.size(); ++t) med_err[t] = std::exp2(med[t]);
      MethodRow row = depth_row(cfg);
      row.best_error = median(best);
      row.best_step = median(best_t);
      const double mcs = median(cs), mce = median(ce);
      if (!std::isnan(mcs)) {
        row.coord.start = static_cast<int64_t>(mcs);
        row.coord.end = std::isnan(mce) ? res.steps.back() : static_cast<int64_t>(mce);
      }
      row.err = trainers::error_window(res.steps, med_err, windows.error_factor);
      row.val_sel_error = median(vsel);
      rows.push_back(row);
      estimates.emplace_back(row.method, res.best_w[0][c]);
    }
  }

  // Data-driven early stopping with the framework's callback (replicate 0).
  const bool has_val = p0.n_val() > 0;
  if (!has_val) core::log_warn("no validation measurements (data.val_ratio / data.val_fraction = 0): data-driven early stopping skipped");
  for (std::size_t c = 0; c < configs.size() && es_enabled && has_val; ++c) {
    const auto& cfg = configs[c];
    models::DiagonalLinear m(models::DiagonalLinearOptions(p0.d()).depth(cfg.depth).init_scale(cfg.alpha).positive(positive));
    m->to(device, dtype);
    trainers::CallbackList callbacks;
    auto es = std::make_shared<trainers::EarlyStopping>(
        trainers::EarlyStoppingOptions().monitor("val_loss").patience(patience).restore_best(true));
    callbacks.add(es);
    callbacks.add(std::make_shared<trainers::CsvLogger>(dir.file(fmt::format("early_stopping_N{}.csv", cfg.depth)).string()));
    trainers::DiagonalTrainer trainer(m, trainers::DiagonalTrainerOptions(cfg.eta).max_steps(max_steps).eval_every(log_every)
                                             .divergence_factor(div_factor));
    const auto fit = trainer.fit(p0, callbacks);
    const auto w = m->weight().detach();
    if (c >= rows.size()) {
      const MethodRow row = depth_row(cfg);
      rows.push_back(row);
      estimates.emplace_back(row.method, w);
    }
    auto& row = rows[c];
    row.es_step = double(es->best_step());
    row.note = fit.stop_reason.empty() ? "ran to max_steps" : fmt::format("stopped at {}", fit.steps);
    if (truth) row.es_error = (w - p0.w_star).square().sum().item<double>();
    estimates[c].second = w;  // the early-stopped iterate is what a user without w* gets
  }

  // Baselines on the same data.
  auto baseline = [&](const std::string& label, auto&& solve) {
    std::vector<double> errs;
    MethodRow row;
    row.method = label;
    for (int64_t r = 0; r < bl_reps; ++r) {
      const std::pair<torch::Tensor, std::string> out = solve(problems[static_cast<std::size_t>(r)]);
      const torch::Tensor& w = out.first;
      const std::string& note = out.second;
      if (truth) errs.push_back((w - problems[static_cast<std::size_t>(r)].w_star).square().sum().item<double>());
      if (r == 0) {
        estimates.emplace_back(label, w);
        row.note = note;
      }
    }
    row.best_error = truth ? median(errs) : NAN;
    rows.push_back(row);
  };
  if (do_min_norm) baseline("min-norm LS", [](const core::SparseProblem& p) {
    return std::make_pair(trainers::min_norm_least_squares(p.X, p.y), std::string("pinv"));
  });
  if (do_lasso) baseline("Lasso", [&](const core::SparseProblem& p) {
    const auto r = trainers::lasso_validated(p, lasso_opts);
    return std::make_pair(r.w, fmt::format("lambda {:.3g} ({})", r.lambda, r.selected_by));
  });

  const bool image = !p0.image_shape.empty();
  for (auto& row : rows) {
    for (auto& [label, w] : estimates) {
      if (label == row.method && truth && image) row.psnr = psnr(w, p0.w_star);
    }
  }

  core::CsvWriter summary(dir.file("summary.csv"),
                          {"method", "depth", "eta", "w0", "alpha", "best_error", "best_step", "coord_start", "coord_end",
                           "coord_width", "err_start", "err_end", "err_width", "val_sel_error", "es_step", "es_error",
                           "psnr", "note"});
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    auto num = [](double x) { return std::isnan(x) ? std::string() : fmt::format("{:.10g}", x); };
    auto wnum = [](const trainers::Window& w, int64_t v) { return w.empty() ? std::string() : std::to_string(v); };
    summary.row_cells({r.method, r.depth ? std::to_string(r.depth) : "", num(r.eta), num(r.w0), num(r.alpha),
                       num(r.best_error), num(r.best_step), wnum(r.coord, r.coord.start), wnum(r.coord, r.coord.end),
                       wnum(r.coord, r.coord.width()), wnum(r.err, r.err.start), wnum(r.err, r.err.end),
                       wnum(r.err, r.err.width()), num(r.val_sel_error), num(r.es_step), num(r.es_error), num(r.psnr),
                       r.note});
    std::vector<std::string> cells{r.method, fmt_num(r.eta), fmt_num(r.w0), fmt_num(r.best_error),
                                   std::isnan(r.best_step) ? "-" : fmt::format("{}", int64_t(r.best_step)),
                                   fmt_window(r.coord.start, r.coord.end, r.coord.censored),
                                   fmt_window(r.err.start, r.err.end, r.err.censored), fmt_num(r.val_sel_error),
                                   fmt_num(r.es_error), std::isnan(r.es_step) ? "-" : fmt::format("{}", int64_t(r.es_step))};
    if (image) cells.push_back(fmt_num(r.psnr));
    cells.push_back(r.note);
    table.push_back(cells);
  }
  std::vector<std::string> header{"method", "eta", "w0", replicates > 1 ? "best err (med)" : "best err", "best t",
                                  "coord window", "error window", "val-sel err", "ES err", "ES t"};
  if (image) header.push_back("PSNR dB");
  header.push_back("note");
  print_table(fmt::format("recover: {} (n = {}, d = {}, {} replicate(s); errors are ||w - w*||^2{})", spec.source, p0.n(),
                          p0.d(), replicates, replicates > 1 ? ", medians" : ""),
              header, table);

  if (image) {
    std::vector<torch::Tensor> imgs{p0.w_star.view(p0.image_shape).to(torch::kCPU, torch::kDouble)};
    std::vector<std::string> labels{"original"};
    for (const auto& key : {std::string("min-norm LS"), std::string("Lasso")}) {
      for (auto& [label, w] : estimates) if (label == key) { imgs.push_back(w.view(p0.image_shape).to(torch::kCPU, torch::kDouble)); labels.push_back(label); }
    }
    for (std::size_t c = 0; c < configs.size() && c < estimates.size(); ++c) {
      imgs.push_back(estimates[c].second.view(p0.image_shape).to(torch::kCPU, torch::kDouble));
      labels.push_back(estimates[c].first);
    }
    for (auto& im : imgs) im = im.clamp(0, 1);
    core::write_png(dir.plots() / "recovery_grid.png", core::image_grid(imgs, static_cast<int64_t>(imgs.size())), 4);
    core::write_npy(dir.file("recovery_images.npy"), torch::stack(imgs));
    core::write_file_atomically(dir.file("recovery_labels.txt"), fmt::format("{}\n", fmt::join(labels, "\n")));
    core::log_info("image grid ({}): {}", fmt::join(labels, " | "), (dir.plots() / "recovery_grid.png").string());
  }
  core::run_plot_script("sparse.recover", dir.path());
  core::log_info("results: {}", dir.path().string());
}

void add_recover_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("recover", "sparse recovery with depth-N diagonal networks (windows, early stopping, baselines)");
  auto args = std::make_shared<RunArgs>();
  auto mnist_dir = std::make_shared<std::string>();
  add_run_options(cmd, *args);
  add_resume_option(cmd, *args);
  cmd->add_option("--mnist-dir", *mnist_dir, "folder with MNIST IDX files (raw or .gz): sets data.source=mnist");
  cmd->callback([args, mnist_dir] {
    RunArgs a = *args;
    if (!mnist_dir->empty()) {
      a.overrides.push_back("data.source=mnist");
      a.overrides.push_back("data.mnist_dir=" + *mnist_dir);
    }
    run_recover(a, kRecoverDefaults, "recover");
  });
}

}  // namespace regula::apps
