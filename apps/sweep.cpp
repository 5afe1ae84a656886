// regula sweep: a grid N x w0 x eta x seed x n advanced as ONE batched
// computation (problems stacked with zero padding, parameter sets along a
// second batch axis), one CSV row per configuration, recovery phase
// transition and window maps.
#include <chrono>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "apps/commands.h"
#include "apps/sparse_common.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/plot.h"
#include "trainers/batched_gd.h"
#include "trainers/recovery_metrics.h"

namespace regula::apps {
namespace {

const char* kSweepDefaults = R"(# regula sweep: recovery phase transition in n/k for depths 2, 3, 4
name: sweep
device: auto
seed: 0
dtype: float32
data:
  source: synthetic
  n: [20, 40, 60, 80, 100]
  d: 200
  k: 5
  support_values: [1]
  sigma: 0.0
  design: rademacher
  val_ratio: 0.0
  seeds: 10              # problems per n, seeds seed, seed+1, ...
model:
  depths: [2, 3, 4]
  w0: [1.0e-5]           # or alpha: [...]
  positive: false
train:
  eta: [1.0e-2]
  max_steps: 3000
  log_every: 10
  divergence_factor: 1.0e6
  checkpoint_every: 1000 # steps between checkpoints (0: none); continue with --resume <run dir>
windows:
  coord_tol: 0.1
  off_threshold: -1
  error_factor: 1.4142135623730951
recovery:
  threshold: 0.5         # recovered: {i : |w_i| > threshold min_S |w*_i|} equals the support S (best iterate)
)";

}  // namespace

void run_sweep(const RunArgs& args, const std::string& defaults, const std::string& command) {
  auto config = load_config(args, defaults, command);
  auto root = config.root();
  const auto run = read_run_spec(root, "sweep");
  const auto& spec = run.data;
  const auto seed = run.seed;
  auto data = root.section("data");
  data.check(spec.source != "files", "source", "sweeps generate their problems: synthetic, digit or mnist");
  std::vector<int64_t> ns;
  try {
    ns = data.get<std::vector<int64_t>>("n", {100});
  } catch (const ConfigError&) {
    ns = {data.get<int64_t>("n", 100)};
  }
  data.check(!ns.empty() && *std::min_element(ns.begin(), ns.end()) >= 1, "n", "one or more sample sizes >= 1");
  const auto seeds = data.get<int64_t>("seeds", 10);
  data.check(seeds >= 1, "seeds", "must be >= 1");
  const auto grid = read_grid(root, /*scale_list=*/true);
  const auto windows = read_window_spec(root.section("windows"));
  auto rec = root.section("recovery");
  const auto rec_thr = rec.get<double>("threshold", 0.5);
  rec.check(rec_thr > 0 && rec_thr < 1, "threshold", "must be in (0, 1)");
  config.finish();

  const auto dir = create_run_dir(args, run.name, config);
  std::vector<core::SparseProblem> problems;
  std::vector<std::pair<int64_t, uint64_t>> problem_keys;  // (n, seed)
  for (auto n : ns) {
    for (int64_t s = 0; s < seeds; ++s) {
      problems.push_back(spec.make(n, seed + static_cast<uint64_t>(s)));
      problem_keys.emplace_back(n, seed + static_cast<uint64_t>(s));
    }
  }
  struct Key { int64_t depth; std::size_t w0; double eta; };
  std::vector<trainers::GDConfig> configs;
  std::vector<Key> keys;
  for (auto depth : grid.depths)
    for (std::size_t i = 0; i < grid.w0.size(); ++i)
      for (double eta : grid.eta) {
        configs.push_back({depth, grid.alpha(i, depth), eta});
        keys.push_back({depth, i, eta});
      }
  const auto batched = trainers::stack_problems(problems, run.device, run.dtype);
  const int64_t total = batched.problems() * static_cast<int64_t>(configs.size());
  core::log_info("sweep: {} problems (n in {} x {} seeds) x {} parameter sets = {} runs, {} steps, one batched computation",
                 batched.problems(), ns.size(), seeds, configs.size(), total, grid.max_steps);
  const auto t0 = std::chrono::steady_clock::now();
  const auto res = trainers::run_batched_gd(batched, configs, grid.batched_options(args, dir, config));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  core::log_info("{} runs in {:.2f} s ({:.1f} runs/s)", total, secs, total / secs);

  // Support recovery at the best iterate: |w_i| > thr * min_S |w*_i| exactly on S.
  const auto wstar = batched.w_star;  // [P, 1, d]
  const auto min_s = wstar.abs().masked_fill(batched.support.logical_not(), INFINITY).amin(-1, true);  // [P,1,1]
  const auto chosen = res.best_w.abs() > min_s * rec_thr;                                            // [P,C,d]
  const auto recovered = chosen.eq(batched.support).all(-1).cpu();                                   // [P,C]
  const auto final_err = (res.final_w - wstar).square().sum(-1).to(torch::kCPU, torch::kDouble);

  core::CsvWriter csv(dir.file("sweep.csv"),
                      {"depth", "w0", "alpha", "eta", "seed", "n", "k", "n_over_k", "best_error", "best_step",
                       "final_error", "coord_start", "coord_end", "coord_width", "err_start", "err_end", "err_width",
                       "val_sel_error", "recovered", "diverged"});
  const double k = static_cast<double>(problems.front().support().size(0));
  using GroupKey = std::tuple<int64_t, std::size_t, double, int64_t>;
  struct Group { std::vector<double> rec, best, cw, ew; int64_t diverged = 0; };
  std::map<GroupKey, Group> groups;
  for (int64_t p = 0; p < res.problems; ++p) {
    for (int64_t c = 0; c < res.configs; ++c) {
      const auto i = static_cast<std::size_t>(res.index(p, c));
      const auto& key = keys[static_cast<std::size_t>(c)];
      const double w0 = grid.w0_of(key.w0, key.depth);
      const auto cw = trainers::coordinate_window(res.steps, res.support_dev[i], res.off_max[i], windows.coord_tol,
                                                  windows.threshold(w0));
      const auto ew = trainers::error_window(res.steps, res.error[i], windows.error_factor);
      const bool div = res.diverged[i] != 0;
      const bool ok = !div && recovered[p][c].item<bool>();
      const auto [n, s] = problem_keys[static_cast<std::size_t>(p)];
      csv.row({{"depth", double(key.depth)}, {"w0", w0}, {"alpha", configs[static_cast<std::size_t>(c)].alpha},
               {"eta", key.eta}, {"seed", double(s)}, {"n", double(n)}, {"k", k}, {"n_over_k", double(n) / k},
               {"best_error", res.best_error[p][c].item<double>()}, {"best_step", double(res.best_step[p][c].item<int64_t>())},
               {"final_error", final_err[p][c].item<double>()}, {"coord_start", double(cw.start)},
               {"coord_end", double(cw.end)}, {"coord_width", double(cw.width())}, {"err_start", double(ew.start)},
               {"err_end", double(ew.end)}, {"err_width", double(ew.width())},
               {"val_sel_error", res.val_best_error.defined() ? res.val_best_error[p][c].item<double>() : NAN},
               {"recovered", ok ? 1.0 : 0.0}, {"diverged", div ? 1.0 : 0.0}});
      auto& g = groups[{key.depth, key.w0, key.eta, n}];
      g.rec.push_back(ok ? 1.0 : 0.0);
      g.best.push_back(div ? NAN : res.best_error[p][c].item<double>());
      g.cw.push_back(double(cw.width()));
      g.ew.push_back(double(ew.width()));
      g.diverged += div;
    }
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& [key, g] : groups) {
    const auto& [depth, w0i, eta, n] = key;
    double mean_rec = 0;
    for (double r : g.rec) mean_rec += r / static_cast<double>(g.rec.size());
    table.push_back({std::to_string(depth), fmt_num(grid.w0[w0i]), fmt_num(eta), std::to_string(n), fmt_num(double(n) / k),
                     std::to_string(g.rec.size()), fmt::format("{:.2f}", mean_rec), fmt_num(trainers::quantile(g.best, 0.5)),
                     fmt_num(trainers::quantile(g.cw, 0.5)), fmt_num(trainers::quantile(g.ew, 0.5)), std::to_string(g.diverged)});
  }
  print_table(fmt::format("sweep: {} runs in {:.2f} s (medians over seeds)", total, secs),
              {"N", grid.w0_given_as_alpha ? "alpha" : "w0", "eta", "n", "n/k", "runs", "P(recovered)", "best err",
               "coord width", "error width", "diverged"},
              table);
  core::run_plot_script("sparse.sweep", dir.path());
  core::log_info("results: {}", dir.path().string());
}

void add_sweep_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("sweep", "batched grid of diagonal-network GD runs (N x w0 x eta x seed x n)");
  auto args = std::make_shared<RunArgs>();
  add_run_options(cmd, *args);
  add_resume_option(cmd, *args);
  cmd->callback([args] { run_sweep(*args, kSweepDefaults, "sweep"); });
}

}  // namespace regula::apps
