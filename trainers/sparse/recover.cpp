#include "trainers/sparse/recover.h"

#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/distributed.h"
#include <fmt/ranges.h>

#include "core/device.h"
#include "core/errors.h"
#include "core/image.h"
#include "core/logging.h"
#include "core/plot.h"
#include "core/table.h"
#include "core/tabular.h"
#include "trainers/sparse/baselines.h"
#include "trainers/sparse/batched_gd.h"
#include "trainers/sparse/spec.h"

namespace regula::sparse {

const char* const kRecoverDefaults = R"(# regula recover: experiment 2 (early-stopping window vs depth), shortened.
# Every key not given here takes its default (config.resolved.yaml lists them all).
name: recover
seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]   # one replicate per seed
)";

namespace {

double median(std::vector<double> v) { return quantile(std::move(v), 0.5); }

// The baselines' keys (`baselines`); the defaults are LassoOptions'.
struct BaselineSpec {
  bool min_norm = true, lasso = true;
  LassoOptions lasso_options;
  int64_t replicates = 10;  // the baselines run on the first this many replicates
};

BaselineSpec read_baseline_spec(core::Section bl, bool nonnegative) {
  BaselineSpec b;
  b.min_norm = bl.get<bool>("min_norm", b.min_norm);
  b.lasso = bl.get<bool>("lasso", b.lasso);
  auto& o = b.lasso_options;
  bl.renamed("lasso_iterations", "baselines.lasso_max_epochs",
             "the Lasso is solved by coordinate descent to baselines.lasso_tolerance; lasso_max_epochs caps it");
  o.lambdas(bl.get<int64_t>("lasso_lambdas", o.lambdas()))
      .tolerance(bl.get<double>("lasso_tolerance", o.tolerance()))
      .max_epochs(bl.get<int64_t>("lasso_max_epochs", o.max_epochs()));
  o.nonnegative(nonnegative);
  bl.check(o.lambdas() >= 1, "lasso_lambdas", "must be >= 1");
  bl.check(o.tolerance() > 0, "lasso_tolerance", "a relative duality gap > 0, e.g. 1e-6");
  bl.check(o.max_epochs() >= 1, "lasso_max_epochs", "must be >= 1");
  b.replicates = bl.get<int64_t>("replicates", b.replicates);
  bl.check(b.replicates >= 0, "replicates", "must be >= 0");
  return b;
}

// One problem of the run: its data and what it is a replicate of.
struct Replicate {
  SparseProblem problem;
  int64_t seed = 0;
  int64_t signal = -1;  // index of the digit (images)
};

std::string num(double x) { return std::isnan(x) ? std::string() : fmt::format("{:.10g}", x); }

}  // namespace

RecoverReport run_recover(const core::RunRequest& request, const std::string& defaults, const std::string& command) {
  core::require_single_process(command);
  auto config = core::load_run_config(request, defaults, command, "recover");
  auto root = config.root();
  const auto run = core::read_run_spec(root, "recover");
  auto data_sec = root.section("data");
  const auto spec = read_data_spec(data_sec);
  data_sec.check(spec.n.size() == 1, "n", "one sample size (a grid of them is `regula sweep`)");
  const int64_t n = spec.n.front();  // ignored for files
  const auto grid = read_grid_spec(root, /*scale_list=*/false);
  auto train = root.section("train");
  train.check(grid.lr.size() == 1 || grid.lr.size() == grid.depths.size(), "lr",
              fmt::format("one step size, or one per depth ({} values)", grid.depths.size()));
  const auto es = read_early_stopping_spec(train);
  const auto windows = read_window_spec(root.section("windows"));
  const auto bl = read_baseline_spec(root.section("baselines"), grid.nonnegative);
  const auto path_coords = root.section("log").get<int64_t>("path_coords", 10);
  config.finish();

  const auto digits = spec.image() ? (spec.mnist_label.empty() ? spec.mnist_index.size() : spec.mnist_label.size()) : 1;
  check_batched_fits(static_cast<double>(run.seeds.size() * digits), static_cast<double>(n) * (1.0 + spec.val_ratio),
                     static_cast<double>(spec.d), static_cast<double>(grid.depths.size()),
                     "data.d, data.n or the number of seeds / digits");
  // The replicates: one per seed (and per digit for images); one problem from files.
  std::vector<Replicate> reps;
  const auto signals = spec.signals();
  const std::vector<int64_t> seeds = spec.kind == "files" ? std::vector<int64_t>{run.seeds.front()} : run.seeds;
  for (std::size_t s = 0; s < std::max<std::size_t>(signals.size(), 1); ++s) {
    for (auto seed : seeds) {
      const auto signal = signals.empty() ? torch::Tensor() : signals[s];
      reps.push_back({spec.make(n, static_cast<uint64_t>(seed), signal).to(run.device, run.dtype), seed,
                      signals.empty() ? -1 : static_cast<int64_t>(s)});
    }
  }
  const auto dir = core::open_run_dir(request, run.name, config, "recover");
  core::log_info("device: {}", core::describe_device(run.device));
  const auto& p0 = reps.front().problem;
  const bool truth = p0.has_truth(), image = !p0.image_shape.empty(), has_val = p0.n_val() > 0;
  core::log_info("data: {} with n = {}, n_val = {}, d = {}{}, {} replicate(s)", spec.kind, p0.n(), p0.n_val(), p0.d(),
                 truth ? fmt::format(", k = {}", p0.support().size(0)) : std::string(", no w*"), reps.size());
  if (es.enabled && !has_val) {
    core::log_warn("no validation measurements (data.val_ratio / data.val_fraction = 0): data-driven early stopping skipped");
  }

  std::vector<GDConfig> configs;
  for (std::size_t i = 0; i < grid.depths.size(); ++i) {
    const auto depth = grid.depths[i];
    configs.push_back({depth, grid.scales.front().alpha(depth), grid.lr.size() == 1 ? grid.lr[0] : grid.lr[i]});
  }
  std::vector<SparseProblem> problems;
  for (const auto& r : reps) problems.push_back(r.problem);
  const auto batched = stack_problems(problems, run.device, run.dtype);
  core::log_info("batched GD: {} depth(s) x {} replicate(s), {} steps ...", configs.size(), reps.size(), grid.steps);
  const auto t0 = std::chrono::steady_clock::now();
  auto options = grid.batched_options(request, dir, config).throw_on_divergence(true).path_coords(truth ? path_coords : 0);
  if (es.enabled) options.patience_steps(es.patience_steps);
  trainers::CallbackList progress;
  progress.add(std::make_shared<trainers::ProgressBar>(fmt::format("{} runs", reps.size() * configs.size())));
  options.callbacks(&progress);
  const auto res = run_batched_gd(batched, configs, options);
  core::log_info("{} runs x {} steps in {:.2f} s", res.problems * res.configs, grid.steps,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  const bool have_es = res.es_w.defined();
  // The iterate a user without w* gets: the early-stopped one (else the oracle best).
  const auto chosen = [&](int64_t p, int64_t c) { return have_es ? res.es_w[p][c] : res.best_w[p][c]; };

  core::CsvWriter curves(dir.file("curves.csv"), {"depth", "step", "median_log2_error", "q25_log2_error",
                                                   "q75_log2_error", "median_train_loss", "median_val_loss"});
  std::vector<std::string> path_cols{"depth", "step"};
  for (auto i : res.path_index) path_cols.push_back(fmt::format("w{}", i));
  path_cols.push_back("off_max");
  core::CsvWriter paths(dir.file("paths.csv"), path_cols);
  core::CsvWriter runs(dir.file("runs.csv"),
                       {"depth", "replicate", "seed", "digit", "best_error", "best_step", "coord_start", "coord_end",
                        "coord_censored", "err_start", "err_end", "err_censored", "val_sel_error", "val_sel_step",
                        "es_error", "es_step", "es_stop_step", "psnr_best", "psnr_es"});
  std::vector<MethodRow> rows;
  std::vector<torch::Tensor> depth_images;  // chosen(0, c) per depth
  for (int64_t c = 0; c < res.configs; ++c) {
    const auto& cfg = configs[static_cast<std::size_t>(c)];
    const double w0 = std::pow(cfg.alpha, static_cast<double>(cfg.depth));
    std::vector<std::vector<double>> log_err, tr, va;
    std::vector<Window> cws;
    std::vector<double> best, best_t, vsel, es_err, es_t, psnr_b, psnr_e, es_val, val0;
    for (int64_t p = 0; p < res.problems; ++p) {
      const auto i = static_cast<std::size_t>(res.index(p, c));
      const auto& rep = reps[static_cast<std::size_t>(p)];
      const auto cw = coordinate_window(res.steps, res.support_dev[i], res.off_max[i], windows.coord_tol,
                                        windows.threshold(w0));
      const auto ew = error_window(res.steps, res.error[i], windows.error_factor);
      std::vector<double> le(res.error[i].size());
      for (std::size_t t = 0; t < le.size(); ++t) le[t] = std::log2(res.error[i][t]);
      log_err.push_back(le);
      tr.push_back(res.train_loss[i]);
      va.push_back(res.val_loss[i]);
      cws.push_back(cw);
      best.push_back(truth ? res.best_error[p][c].item<double>() : NAN);
      best_t.push_back(truth ? double(res.best_step[p][c].item<int64_t>()) : NAN);
      const double vs = res.val_best_error.defined() && truth ? res.val_best_error[p][c].item<double>() : NAN;
      vsel.push_back(vs);
      es_err.push_back(have_es && truth ? res.es_error[p][c].item<double>() : NAN);
      es_t.push_back(have_es ? double(res.es_step[p][c].item<int64_t>()) : NAN);
      es_val.push_back(have_es ? res.es_val_loss[p][c].item<double>() : NAN);
      val0.push_back(res.val_loss[i].empty() ? NAN : res.val_loss[i].front());
      psnr_b.push_back(image && truth ? psnr(res.best_w[p][c], rep.problem.w_star) : NAN);
      psnr_e.push_back(image && truth && have_es ? psnr(res.es_w[p][c], rep.problem.w_star) : NAN);
      runs.row({{"depth", double(cfg.depth)}, {"replicate", double(p)}, {"seed", double(rep.seed)},
                {"digit", rep.signal >= 0 ? double(spec.mnist_label.empty() ? spec.mnist_index[static_cast<std::size_t>(rep.signal)]
                                                                           : spec.mnist_label[static_cast<std::size_t>(rep.signal)])
                                          : NAN},
                {"best_error", best.back()}, {"best_step", best_t.back()},
                {"coord_start", cw.empty() ? NAN : double(cw.start)}, {"coord_end", cw.empty() ? NAN : double(cw.end)},
                {"coord_censored", double(cw.censored)}, {"err_start", ew.empty() ? NAN : double(ew.start)},
                {"err_end", ew.empty() ? NAN : double(ew.end)}, {"err_censored", double(ew.censored)},
                {"val_sel_error", vs},
                {"val_sel_step", res.val_best_step.defined() ? double(res.val_best_step[p][c].item<int64_t>()) : NAN},
                {"es_error", es_err.back()}, {"es_step", es_t.back()},
                {"es_stop_step", have_es ? double(res.es_stop_step[p][c].item<int64_t>()) : NAN},
                {"psnr_best", psnr_b.back()}, {"psnr_es", psnr_e.back()}});
    }
    const auto med = quantile_curve(log_err, 0.5), q25 = quantile_curve(log_err, 0.25), q75 = quantile_curve(log_err, 0.75),
               mtr = quantile_curve(tr, 0.5), mva = quantile_curve(va, 0.5);
    {
      // Replicate 0's trajectory: every column of a row is of the same iterate w_step.
      const auto i0 = static_cast<std::size_t>(res.index(0, c));
      core::CsvWriter es_csv(dir.file(fmt::format("early_stopping_N{}.csv", cfg.depth)),
                             {"step", "train_loss", "val_loss", "error"});
      for (std::size_t t = 0; t < res.steps.size(); ++t) {
        es_csv.row({{"step", double(res.steps[t])}, {"train_loss", res.train_loss[i0][t]},
                    {"val_loss", res.val_loss[i0][t]}, {"error", truth ? res.error[i0][t] : NAN}});
      }
    }
    for (std::size_t t = 0; t < res.steps.size() && truth; ++t) {
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
    MethodRow row;
    row.method = fmt::format("depth {}", cfg.depth);
    row.depth = cfg.depth;
    row.lr = cfg.eta;
    row.alpha = cfg.alpha;
    row.w0 = w0;
    if (truth) {
      std::vector<double> med_err(med.size());
      for (std::size_t t = 0; t < med.size(); ++t) med_err[t] = std::exp2(med[t]);
      row.best_error = median(best);
      row.best_step = median(best_t);
      row.coord = median_window(cws, res.steps.back());
      row.err = error_window(res.steps, med_err, windows.error_factor);
      row.val_sel_error = median(vsel);
      row.es_error = median(es_err);
    }
    row.es_step = median(es_t);
    row.psnr_best = median(psnr_b);
    row.psnr_es = median(psnr_e);
    if (have_es) {
      // A stop on the initial plateau is no result: say so instead of reporting it as one.
      if (median(es_val) > 0.5 * median(val0)) {
        row.note = fmt::format("ES stopped on the initial plateau: raise train.early_stopping.patience_steps (now {})",
                               es.patience_steps);
      } else if (2 * res.es_stop_step.select(1, c).lt(0).sum().item<int64_t>() > res.problems) {
        row.note = "ES: patience not used up by the last step in most replicates";
      }
    }
    rows.push_back(row);
    depth_images.push_back(chosen(0, c));
  }

  // Baselines on the same data: the first `baselines.replicates` replicates for the table, and
  // the first replicate of each digit for the image grid; each solved once.
  std::vector<std::size_t> image_rows;  // the first replicate of each digit
  for (std::size_t p = 0; image && p < reps.size(); ++p) {
    if (p == 0 || reps[p].signal != reps[p - 1].signal) image_rows.push_back(p);
  }
  std::vector<std::pair<std::string, std::map<std::size_t, torch::Tensor>>> baseline_estimates;
  auto baseline = [&](const std::string& label, auto&& solve) {
    std::vector<double> errs, psnrs;
    MethodRow row;
    row.method = label;
    auto& estimates = baseline_estimates.emplace_back(label, std::map<std::size_t, torch::Tensor>{}).second;
    const auto count = std::min<std::size_t>(reps.size(), static_cast<std::size_t>(std::max<int64_t>(bl.replicates, 1)));
    for (std::size_t r = 0; r < reps.size(); ++r) {
      const bool in_table = r < count;
      if (!in_table && std::find(image_rows.begin(), image_rows.end(), r) == image_rows.end()) continue;
      const auto& pr = reps[r].problem;
      const auto [w, note] = solve(pr);
      estimates[r] = w;
      if (r == 0) row.note = note;
      if (!in_table) continue;
      if (truth) errs.push_back((w - pr.w_star).square().sum().template item<double>());
      if (image && truth) psnrs.push_back(psnr(w, pr.w_star));
    }
    row.best_error = truth ? median(errs) : NAN;
    row.psnr_es = image && truth ? median(psnrs) : NAN;
    rows.push_back(row);
  };
  if (bl.min_norm && bl.replicates > 0) baseline("min-norm LS", [](const SparseProblem& p) {
    return std::make_pair(min_norm_least_squares(p.X, p.y), std::string("pinv"));
  });
  if (bl.lasso && bl.replicates > 0) baseline(grid.nonnegative ? "Lasso (w >= 0)" : "Lasso", [&](const SparseProblem& p) {
    const auto r = lasso_validated(p, bl.lasso_options);
    const auto& o = bl.lasso_options;
    return std::make_pair(r.w, r.converged ? fmt::format("lambda {:.3g} ({}), gap {:.1e}", r.lambda, r.selected_by, r.gap)
                                           : fmt::format("lambda {:.3g} ({}), NOT converged: gap {:.1e} > lasso_tolerance "
                                                         "{:.1e} after lasso_max_epochs = {}",
                                                         r.lambda, r.selected_by, r.gap, o.tolerance(), o.max_epochs()));
  });

  core::CsvWriter summary(dir.file("summary.csv"),
                          {"method", "depth", "lr", "w0", "alpha", "best_error", "best_step", "coord_start", "coord_end",
                           "coord_width", "coord_censored", "err_start", "err_end", "err_width", "err_censored",
                           "val_sel_error", "es_step", "es_error", "psnr_best", "psnr_es", "note"});
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    auto wnum = [](const Window& w, int64_t v) { return w.empty() ? std::string() : std::to_string(v); };
    std::string note = r.note;
    std::replace(note.begin(), note.end(), ',', ';');
    summary.row_cells({r.method, r.depth ? std::to_string(r.depth) : "", num(r.lr), num(r.w0), num(r.alpha),
                       num(r.best_error), num(r.best_step), wnum(r.coord, r.coord.start), wnum(r.coord, r.coord.end),
                       wnum(r.coord, r.coord.width()), r.coord.empty() ? "" : std::to_string(int(r.coord.censored)),
                       wnum(r.err, r.err.start), wnum(r.err, r.err.end), wnum(r.err, r.err.width()),
                       r.err.empty() ? "" : std::to_string(int(r.err.censored)), num(r.val_sel_error), num(r.es_step),
                       num(r.es_error), num(r.psnr_best), num(r.psnr_es), note});
    std::vector<std::string> cells{r.method, core::fmt_num(r.lr), core::fmt_num(r.w0), core::fmt_num(r.best_error),
                                   std::isnan(r.best_step) ? "-" : fmt::format("{}", int64_t(r.best_step)),
                                   format_window(r.coord), format_window(r.err), core::fmt_num(r.val_sel_error),
                                   core::fmt_num(r.es_error),
                                   std::isnan(r.es_step) ? "-" : fmt::format("{}", int64_t(r.es_step))};
    if (image && truth) {
      cells.push_back(std::isnan(r.psnr_best) ? "-" : fmt::format("{:.1f}", r.psnr_best));
      cells.push_back(std::isnan(r.psnr_es) ? "-" : fmt::format("{:.1f}", r.psnr_es));
    }
    cells.push_back(r.note);
    table.push_back(cells);
  }
  std::vector<std::string> header{"method", "lr", "w0", reps.size() > 1 ? "best err (med)" : "best err", "best t",
                                  "coord window", "error window", "val-sel err", "ES err", "ES t"};
  if (image && truth) header.insert(header.end(), {"PSNR best", "PSNR ES/baseline"});
  header.push_back("note");
  core::print_table(fmt::format("recover: {} (n = {}, d = {}, {} replicate(s); errors are ||w - w*||^2{}; "
                                "'+': window still open at the last step)",
                                spec.kind, p0.n(), p0.d(), reps.size(), reps.size() > 1 ? ", medians" : ""),
                    header, table);

  if (image) {
    // Rows: one per digit (seed 0 of each); columns: original, baselines, depths.
    std::vector<torch::Tensor> imgs;
    std::vector<std::string> labels;
    if (truth) labels.push_back("original");
    for (const auto& [label, estimates] : baseline_estimates) labels.push_back(label);
    for (const auto& r : rows) if (r.depth) labels.push_back(r.method);
    for (const auto p : image_rows) {
      if (truth) imgs.push_back(reps[p].problem.w_star);
      for (const auto& [label, estimates] : baseline_estimates) imgs.push_back(estimates.at(p));
      for (int64_t c = 0; c < res.configs; ++c) {
        imgs.push_back(chosen(static_cast<int64_t>(p), c));
      }
    }
    for (auto& im : imgs) im = im.view(p0.image_shape).to(torch::kCPU, torch::kDouble).clamp(0, 1);
    const auto cols = static_cast<int64_t>(labels.size());
    core::write_png(dir.plots() / "recovery_grid.png", core::image_grid(imgs, cols), 4);
    core::write_npy(dir.file("recovery_images.npy"),
                    torch::stack(imgs).view({static_cast<int64_t>(imgs.size()) / cols, cols, p0.image_shape[0], p0.image_shape[1]}));
    core::write_file_atomically(dir.file("recovery_labels.txt"), fmt::format("{}\n", fmt::join(labels, "\n")));
    core::log_info("image grid ({}; one row per digit): {}", fmt::join(labels, " | "),
                   (dir.plots() / "recovery_grid.png").string());
  } else if (!truth) {
    // No ground truth: the estimates themselves are the result.
    std::vector<torch::Tensor> ws;
    for (auto& w : depth_images) ws.push_back(w.to(torch::kCPU, torch::kDouble));
    for (auto& [label, estimates] : baseline_estimates) ws.push_back(estimates.at(0).to(torch::kCPU, torch::kDouble));
    core::write_npy(dir.file("estimates.npy"), torch::stack(ws));
  }
  core::run_plot_script("sparse.recover", dir.path());
  core::log_info("results: {}", dir.path().string());
  return {dir.path(), rows};
}

}  // namespace regula::sparse
