#include "trainers/sparse/sweep.h"

#include <chrono>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "core/device.h"
#include "core/distributed.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/plot.h"
#include "core/table.h"
#include "trainers/sparse/batched_gd.h"
#include "trainers/sparse/metrics.h"
#include "trainers/sparse/spec.h"

namespace regula::sparse {

const char* const kSweepDefaults = R"(# regula sweep: recovery phase transition in n/k for depths 2, 3, 4.
# Every key not given here takes its default (config.resolved.yaml lists them all).
name: sweep
seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]   # problems per n
data:
  n: [20, 40, 60, 80, 100]
  sigma: 0.0
  val_ratio: 0.0
model:
  w0: [1.0e-5]           # or alpha: [...]
recovery:
  threshold: 0.5         # recovered: {i : |w_i| > threshold min_S |w*_i|} equals the support S (best iterate)
)";

std::filesystem::path run_sweep(const core::RunRequest& request, const std::string& defaults, const std::string& command) {
  auto config = core::load_run_config(request, defaults, command, "sweep");
  auto root = config.root();
  const auto run = core::read_run_spec(root, "sweep");
  auto data = root.section("data");
  const auto spec = read_data_spec(data);
  data.check(spec.kind != "files", "kind", "sweeps generate their problems: synthetic, digit or mnist");
  const auto& ns = spec.n;
  const auto grid = read_grid_spec(root, /*scale_list=*/true);
  const auto windows = read_window_spec(root.section("windows"));
  auto rec = root.section("recovery");
  const auto rec_thr = rec.get<double>("threshold", 0.5);
  rec.check(rec_thr > 0 && rec_thr < 1, "threshold", "must be in (0, 1)");
  config.finish();

  check_batched_fits(static_cast<double>(run.seeds.size() * ns.size()),
                     static_cast<double>(*std::max_element(ns.begin(), ns.end())) * (1.0 + spec.val_ratio),
                     static_cast<double>(spec.d), static_cast<double>(grid.depths.size() * grid.scales.size() * grid.lr.size()),
                     "data.d, data.n, the seeds or the grid (model.depths x model.w0 x train.lr)");
  const auto signals = spec.signals();
  const auto signal = signals.empty() ? torch::Tensor() : signals.front();
  const auto dir = core::open_run_dir(request, run.name, config, "sweep");
  core::log_info("device: {}", core::describe_device(run.device));
  std::vector<SparseProblem> problems;
  std::vector<std::pair<int64_t, uint64_t>> problem_keys;  // (n, seed)
  for (auto n : ns) {
    for (auto s : run.seeds) {
      problems.push_back(spec.make(n, static_cast<uint64_t>(s), signal));
      problem_keys.emplace_back(n, static_cast<uint64_t>(s));
    }
  }
  const auto seeds = run.seeds.size();
  struct Key { int64_t depth; std::size_t w0; double eta; };
  std::vector<GDConfig> configs;
  std::vector<Key> keys;
  for (auto depth : grid.depths)
    for (std::size_t i = 0; i < grid.scales.size(); ++i)
      for (double eta : grid.lr) {
        configs.push_back({depth, grid.scales[i].alpha(depth), eta});
        keys.push_back({depth, i, eta});
      }
  // A distributed sweep (core/distributed.h) splits the problems across the ranks, each shard
  // padded as the whole stack is, so every run is the computation a one-process sweep does;
  // rank 0 gathers the runs' numbers and writes the same files.
  const auto& dist = core::distributed();
  const auto all = stack_problems(problems, run.device, run.dtype);
  if (all.problems() < dist.world_size()) {
    throw ConfigError(fmt::format("the sweep has {} problems (data.n x seeds), fewer than the {} ranks it was launched "
                                  "on: launch fewer ranks or add seeds", all.problems(), dist.world_size()));
  }
  const auto [p_begin, p_end] = core::shard_range(all.problems(), dist.rank(), dist.world_size());
  const auto batched = dist.active() ? slice_problems(all, p_begin, p_end) : all;
  const int64_t total = all.problems() * static_cast<int64_t>(configs.size());
  core::log_info("sweep: {} problems (n in {} x {} seeds) x {} parameter sets = {} runs, {} steps, one batched computation{}",
                 all.problems(), ns.size(), seeds, configs.size(), total, grid.steps,
                 dist.active() ? fmt::format(" per rank ({} ranks)", dist.world_size()) : "");
  const auto t0 = std::chrono::steady_clock::now();
  trainers::CallbackList progress;
  progress.add(std::make_shared<trainers::ProgressBar>(fmt::format("{} runs", total)));
  auto options = grid.batched_options(request, dir, config).callbacks(&progress);
  if (dist.active()) {
    options.checkpoint_path((dir.checkpoints() / fmt::format("batched_gd.rank{}of{}.pt", dist.rank(), dist.world_size())).string());
  }
  const auto res = run_batched_gd(batched, configs, options);

  // Each run's numbers (support recovery at the best iterate: |w_i| > thr * min_S |w*_i|
  // exactly on S), gathered in problem order.
  struct RunRow {
    double best_error, best_step, final_error, coord_start, coord_end, coord_censored, err_start, err_end, err_censored,
        val_sel_error, recovered, diverged;
  };
  constexpr int64_t kFields = sizeof(RunRow) / sizeof(double);
  const auto wstar = batched.w_star;  // [P, 1, d]
  const auto min_s = wstar.abs().masked_fill(batched.support.logical_not(), INFINITY).amin(-1, true);  // [P,1,1]
  const auto chosen = res.best_w.abs() > min_s * rec_thr;                                            // [P,C,d]
  const auto recovered = chosen.eq(batched.support).all(-1).cpu();                                   // [P,C]
  const auto final_err = (res.final_w - wstar).square().sum(-1).to(torch::kCPU, torch::kDouble);
  std::vector<RunRow> mine;
  for (int64_t p = 0; p < res.problems; ++p) {
    for (int64_t c = 0; c < res.configs; ++c) {
      const auto i = static_cast<std::size_t>(res.index(p, c));
      const auto& key = keys[static_cast<std::size_t>(c)];
      const auto cw = coordinate_window(res.steps, res.support_dev[i], res.off_max[i], windows.coord_tol,
                                        windows.threshold(grid.scales[key.w0].w0(key.depth)));
      const auto ew = error_window(res.steps, res.error[i], windows.error_factor);
      const bool div = res.diverged[i] != 0;
      mine.push_back({res.best_error[p][c].item<double>(), double(res.best_step[p][c].item<int64_t>()),
                      final_err[p][c].item<double>(), double(cw.start), double(cw.end), double(cw.censored),
                      double(ew.start), double(ew.end), double(ew.censored),
                      res.val_best_error.defined() ? res.val_best_error[p][c].item<double>() : NAN,
                      !div && recovered[p][c].item<bool>() ? 1.0 : 0.0, div ? 1.0 : 0.0});
    }
  }
  std::vector<RunRow> rows;
  for (const auto& part : dist.all_gather(torch::from_blob(mine.data(), {int64_t(mine.size()) * kFields}, torch::kDouble))) {
    const auto* q = reinterpret_cast<const RunRow*>(part.contiguous().data_ptr<double>());
    rows.insert(rows.end(), q, q + part.numel() / kFields);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  core::log_info("{} runs in {:.2f} s ({:.1f} runs/s)", total, secs, total / secs);
  if (!dist.is_main()) return dir.path();

  core::CsvWriter csv(dir.file("sweep.csv"),
                      {"depth", "w0", "alpha", "lr", "seed", "n", "k", "n_over_k", "best_error", "best_step",
                       "final_error", "coord_start", "coord_end", "coord_width", "coord_censored", "err_start",
                       "err_end", "err_width", "err_censored", "val_sel_error", "recovered", "diverged"});
  const double k = static_cast<double>(problems.front().support().size(0));
  using GroupKey = std::tuple<int64_t, std::size_t, double, int64_t>;
  struct Group { std::vector<double> rec, best, cw, ew; int64_t diverged = 0, cw_censored = 0, ew_censored = 0; };
  std::map<GroupKey, Group> groups;
  const auto n_configs = static_cast<int64_t>(configs.size());
  for (int64_t p = 0; p < all.problems(); ++p) {
    for (int64_t c = 0; c < n_configs; ++c) {
      const auto& r = rows[static_cast<std::size_t>(p * n_configs + c)];
      const auto& key = keys[static_cast<std::size_t>(c)];
      const double w0 = grid.scales[key.w0].w0(key.depth);
      const Window cw{int64_t(r.coord_start), int64_t(r.coord_end), r.coord_censored != 0};
      const Window ew{int64_t(r.err_start), int64_t(r.err_end), r.err_censored != 0};
      const bool div = r.diverged != 0, ok = r.recovered != 0;
      const auto [n, s] = problem_keys[static_cast<std::size_t>(p)];
      csv.row({{"depth", double(key.depth)}, {"w0", w0}, {"alpha", configs[static_cast<std::size_t>(c)].alpha},
               {"lr", key.eta}, {"seed", double(s)}, {"n", double(n)}, {"k", k}, {"n_over_k", double(n) / k},
               {"best_error", r.best_error}, {"best_step", r.best_step},
               {"final_error", r.final_error}, {"coord_start", double(cw.start)},
               {"coord_end", double(cw.end)}, {"coord_width", double(cw.width())},
               {"coord_censored", double(cw.censored)}, {"err_start", double(ew.start)},
               {"err_end", double(ew.end)}, {"err_width", double(ew.width())}, {"err_censored", double(ew.censored)},
               {"val_sel_error", r.val_sel_error}, {"recovered", ok ? 1.0 : 0.0}, {"diverged", div ? 1.0 : 0.0}});
      auto& g = groups[{key.depth, key.w0, key.eta, n}];
      g.rec.push_back(ok ? 1.0 : 0.0);
      g.best.push_back(div ? NAN : r.best_error);
      g.cw.push_back(double(cw.width()));
      g.ew.push_back(double(ew.width()));
      g.diverged += div;
      g.cw_censored += cw.censored;
      g.ew_censored += ew.censored;
    }
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& [key, g] : groups) {
    const auto& [depth, w0i, eta, n] = key;
    double mean_rec = 0;
    for (double r : g.rec) mean_rec += r / static_cast<double>(g.rec.size());
    // A width whose window most runs had still open at the last step is a lower bound: "4000+".
    const auto half = static_cast<int64_t>(g.rec.size());
    auto width = [&](const std::vector<double>& ws, int64_t censored) {
      return core::fmt_num(quantile(ws, 0.5)) + (2 * censored > half ? "+" : "");
    };
    table.push_back({std::to_string(depth), core::fmt_num(grid.scales[w0i].value()), core::fmt_num(eta), std::to_string(n),
                     core::fmt_num(double(n) / k), std::to_string(g.rec.size()), fmt::format("{:.2f}", mean_rec),
                     core::fmt_num(quantile(g.best, 0.5)), width(g.cw, g.cw_censored), width(g.ew, g.ew_censored),
                     fmt::format("{}/{}", g.ew_censored, g.rec.size()), std::to_string(g.diverged)});
  }
  core::print_table(fmt::format("sweep: {} runs in {:.2f} s (medians over seeds; '+': most windows still open at the "
                                "last step, a lower bound; censored: error windows cut off by train.steps)", total, secs),
                    {"N", grid.scale_is_alpha ? "alpha" : "w0", "lr", "n", "n/k", "runs", "P(recovered)", "best err",
                     "coord width", "error width", "censored", "diverged"},
                    table);
  core::run_plot_script("sparse.sweep", dir.path());
  core::log_info("results: {}", dir.path().string());
  return dir.path();
}

}  // namespace regula::sparse
