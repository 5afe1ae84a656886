#include "trainers/experiment.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/config.h"
#include "core/device.h"
#include "core/distributed.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/run_dir.h"

namespace fs = std::filesystem;

namespace regula::trainers {

// Runs as is: the 1-D cubic with 100 noisy points and a wide tanh net that overfits them,
// no penalty vs k-TV (k = 2), one seed (about 12 s of CPU time on one thread).
// The full experiments are configs/ktv_1d.yaml and configs/ktv_2d.yaml.
const char* const kTrainDefaults = R"yaml(
name: ktv_quick
device: auto
dtype: float32
seed: 0
data:
  kind: synthetic
  target: cubic
  n: 100
  noise: 0.3
  n_val: 100
  test_points: 500
model:
  kind: mlp
  hidden: [1000]
  activation: tanh
  input_gain: 20
regularizer:
  kind: none
train:
  steps: 2000
  batch_size: 0
  eval_every: 100
  optimizer: {kind: adam, lr: 0.001}
output:
  derivatives: 3
variants:
  - "none"
  - "ktv_k2: regularizer.kind=ktv regularizer.order=2 regularizer.weight=1e-5 regularizer.samples=32"
)yaml";

namespace {

// The keys of the root section that describe the experiment, not one run.
// The run spec every command reads (core/run.h) and the variants.
struct ExperimentKeys {
  core::RunSpec run;
  std::vector<Variant> variants;
  std::string parallel;
};

ExperimentKeys read_experiment_keys(core::Section root, const std::string& kind) {
  ExperimentKeys k;
  k.run = core::read_run_spec(root, kind);
  k.parallel = root.get<std::string>("parallel", "auto");
  root.check_choice("parallel", k.parallel, {"auto", "runs", "data"});
  std::set<std::string> names;
  for (const auto& spec : root.get<std::vector<std::string>>("variants", {})) {
    k.variants.push_back(parse_variant(spec));
    root.check(names.insert(k.variants.back().name).second, "variants",
               fmt::format("variant names must be unique ('{}' appears twice)", k.variants.back().name));
  }
  if (k.variants.empty()) k.variants.push_back(Variant{"default", {}});
  return k;
}

// The config of one variant: the text, then the command line, then the variant's overrides.
core::Config variant_config(const ExperimentSpec& spec, const std::string& text, const std::string& origin,
                            const Variant& v) {
  auto config = core::Config::from_string(text, v.overrides.empty() ? origin : origin + " [variant " + v.name + "]");
  config.apply_overrides(spec.overrides);
  config.apply_overrides(v.overrides);
  return config;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_results(const fs::path& dir, const std::vector<RunRecord>& runs, const std::vector<VariantSummary>& summary,
                   const std::string& table) {
  std::vector<std::string> metrics;
  for (const auto& r : runs) {
    for (const auto& [k, v] : r.outcome.metrics) {
      if (std::find(metrics.begin(), metrics.end(), k) == metrics.end()) metrics.push_back(k);
    }
  }
  std::vector<std::string> columns{"variant", "seed", "steps", "seconds"};
  columns.insert(columns.end(), metrics.begin(), metrics.end());
  columns.insert(columns.end(), {"dir", "stop_reason"});
  core::CsvWriter csv(dir / "results.csv", columns);
  for (const auto& r : runs) {
    std::vector<std::string> cells{r.variant, std::to_string(r.seed), std::to_string(r.outcome.steps),
                                   fmt::format("{:.3f}", r.outcome.seconds)};
    for (const auto& m : metrics) {
      const auto it = r.outcome.metrics.find(m);
      cells.push_back(it == r.outcome.metrics.end() ? "" : fmt::format("{:.9g}", it->second));
    }
    auto rel = fs::relative(r.dir, dir).string();
    std::string reason = r.outcome.stop_reason;
    std::replace(reason.begin(), reason.end(), ',', ';');
    cells.insert(cells.end(), {rel.empty() ? "." : rel, reason});
    csv.row_cells(cells);
  }
  std::vector<std::string> scols{"variant", "runs"};
  for (const auto& m : metrics) scols.insert(scols.end(), {m + "_mean", m + "_sd"});
  core::CsvWriter s(dir / "summary.csv", scols);
  for (const auto& v : summary) {
    std::vector<std::string> cells{v.variant, std::to_string(v.runs)};
    for (const auto& m : metrics) {
      const auto it = v.stats.find(m);
      cells.push_back(it == v.stats.end() ? "" : fmt::format("{:.9g}", it->second.first));
      cells.push_back(it == v.stats.end() ? "" : fmt::format("{:.9g}", it->second.second));
    }
    s.row_cells(cells);
  }
  core::write_file_atomically(dir / "summary.md", table);
}

}  // namespace

Variant parse_variant(const std::string& spec) {
  Variant v;
  const auto colon = spec.find(':');
  const auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  v.name = trim(spec.substr(0, colon));
  if (v.name.empty() || v.name.find_first_of(" /=") != std::string::npos) {
    throw ConfigError(fmt::format("variant '{}' is malformed: write \"name: key=value key=value\" with a name "
                                  "without spaces, '/' or '='",
                                  spec));
  }
  if (colon == std::string::npos) return v;
  std::stringstream ss(spec.substr(colon + 1));
  for (std::string item; ss >> item;) {
    if (item.find('=') == std::string::npos || item.front() == '=') {
      throw ConfigError(fmt::format("variant '{}': '{}' is not key=value (no spaces inside one value)", v.name, item));
    }
    v.overrides.push_back(item);
  }
  return v;
}

std::vector<VariantSummary> summarize(const std::vector<RunRecord>& runs) {
  std::vector<VariantSummary> out;
  for (const auto& r : runs) {
    auto it = std::find_if(out.begin(), out.end(), [&](const VariantSummary& s) { return s.variant == r.variant; });
    if (it == out.end()) out.push_back(VariantSummary{r.variant, 0, {}}), it = out.end() - 1;
  }
  for (auto& s : out) {
    std::map<std::string, std::vector<double>> values;
    for (const auto& r : runs) {
      if (r.variant != s.variant) continue;
      ++s.runs;
      for (const auto& [k, v] : r.outcome.metrics) values[k].push_back(v);
    }
    for (const auto& [k, xs] : values) {
      double mean = 0, ss = 0;
      for (double x : xs) mean += x;
      mean /= static_cast<double>(xs.size());
      for (double x : xs) ss += (x - mean) * (x - mean);
      const double sd = xs.size() > 1 ? std::sqrt(ss / static_cast<double>(xs.size() - 1)) : 0.0;
      s.stats[k] = {mean, sd};
    }
  }
  return out;
}

const std::vector<std::string>& default_table_metrics() {
  static const std::vector<std::string> metrics{"test_mse", "test_pearson", "val_loss", "train_mse"};
  return metrics;
}

std::string format_summary(const std::vector<VariantSummary>& summary, const std::vector<std::string>& wanted) {
  std::vector<std::string> metrics;
  for (const auto& m : wanted) {
    for (const auto& s : summary) {
      if (s.stats.count(m)) {
        metrics.push_back(m);
        break;
      }
    }
  }
  std::string out = fmt::format("| {:<16} | {:>4} |", "variant", "runs");
  for (const auto& m : metrics) out += fmt::format(" {:>26} |", m + " (mean ± sd)");
  out += fmt::format("\n|{:-<18}|{:-<6}|", "", "");
  for (std::size_t i = 0; i < metrics.size(); ++i) out += fmt::format("{:-<28}|", "");
  out += "\n";
  for (const auto& s : summary) {
    out += fmt::format("| {:<16} | {:>4} |", s.variant, s.runs);
    for (const auto& m : metrics) {
      const auto it = s.stats.find(m);
      out += it == s.stats.end() ? fmt::format(" {:>26} |", "")
                                 : fmt::format(" {:>26} |", fmt::format("{:.4g} ± {:.2g}", it->second.first, it->second.second));
    }
    out += "\n";
  }
  return out;
}

ExperimentSpec experiment_spec(const core::RunRequest& request, const char* embedded_defaults, const std::string& origin) {
  ExperimentSpec spec;
  if (request.resume_dir.empty()) {
    if (request.config_path.empty()) {
      spec.yaml_text = embedded_defaults;
      spec.origin = origin;
    } else {
      core::Config::from_file(request.config_path);  // a clear error for a missing or malformed file
      spec.yaml_text = read_text(request.config_path);
      spec.origin = request.config_path;
    }
  } else if (!request.config_path.empty()) {
    throw ConfigError("--resume continues a run with its own config.resolved.yaml: drop --config");
  }
  spec.overrides = request.overrides;
  spec.runs_root = request.runs_root;
  spec.resume_dir = request.resume_dir;
  return spec;
}

ExperimentReport run_experiment(const ExperimentSpec& given) {
  // A run directory keeps its input (config text and command-line overrides) for --resume:
  // the resolved config holds defaults of the base that a variant may not accept.
  ExperimentSpec spec = given;
  std::optional<core::RunDir> dir;
  if (!spec.resume_dir.empty()) {
    dir = core::RunDir::open(spec.resume_dir, spec.kind);
    if (!fs::exists(dir->file("input.yaml")) || !fs::exists(dir->file("input_overrides.txt"))) {
      throw ConfigError(fmt::format("'{}' is a run directory but not one of `regula {}` (no input.yaml)",
                                    spec.resume_dir.string(), spec.kind));
    }
    spec.yaml_text = read_text(dir->file("input.yaml"));
    spec.origin = dir->file("input.yaml").string();
    std::stringstream lines(read_text(dir->file("input_overrides.txt")));
    std::vector<std::string> overrides;
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) overrides.push_back(line);
    }
    overrides.insert(overrides.end(), given.overrides.begin(), given.overrides.end());
    spec.overrides = overrides;
  }
  const std::string& text = spec.yaml_text;
  const std::string& origin = spec.origin;

  // Read and validate the base config and every variant before training anything.
  auto base = core::Config::from_string(text, origin);
  base.apply_overrides(spec.overrides);
  const ExperimentKeys keys = read_experiment_keys(base.root(), spec.kind);
  const auto& seeds = keys.run.seeds;
  spec.read_job(base.root(), keys.run, static_cast<uint64_t>(seeds.front()));
  base.finish();
  for (const auto& v : keys.variants) {
    auto config = variant_config(spec, text, origin, v);
    read_experiment_keys(config.root(), spec.kind);
    spec.read_job(config.root(), keys.run, static_cast<uint64_t>(seeds.front()));
    config.finish();
  }

  // The input a resumption follows, recorded once it was validated: a second plain --resume
  // continues with the same overrides (e.g. a raised train.steps).
  const auto record_input = [&] {
    core::write_file_atomically(dir->file("input.yaml"), text);
    core::write_file_atomically(dir->file("input_overrides.txt"), fmt::format("{}\n", fmt::join(spec.overrides, "\n")));
    dir->write_config(base.resolved_yaml());
  };
  // What each run of a resumed experiment was started with (its resolved config).
  const auto saved_config = [&](const fs::path& run_dir) {
    const auto path = run_dir / "config.resolved.yaml";
    return fs::exists(path) ? read_text(path) : std::string();
  };
  const std::string saved_root = dir ? saved_config(dir->path()) : std::string();
  if (!dir) dir = core::RunDir::create(spec.runs_root, keys.run.name, spec.kind);
  const bool single = keys.variants.size() == 1 && seeds.size() == 1;
  const auto run_dir_of = [&](const Variant& v, int64_t seed) {
    return single ? dir->path() : dir->path() / v.name / fmt::format("seed{}", seed);
  };
  if (!spec.resume_dir.empty()) {
    // The resume protocol: every run is the same as before but for its step count (and how
    // often it checkpoints); checked for all runs before any trains or anything is recorded.
    for (const auto& v : keys.variants) {
      for (const auto seed : seeds) {
        // A single run's directory holds the base config; several runs each hold their variant's.
        const auto saved = single ? saved_root : saved_config(run_dir_of(v, seed));
        if (saved.empty()) continue;
        auto config = variant_config(spec, text, origin, v);
        read_experiment_keys(config.root(), spec.kind);
        spec.read_job(config.root(), keys.run, static_cast<uint64_t>(seed));
        core::check_same_run(saved, single ? base.resolved_yaml() : config.resolved_yaml(),
                             {"train.steps", "train.checkpoint_every", "parallel"}, run_dir_of(v, seed).string());
      }
    }
  }
  // A distributed launch (core/distributed.h) either splits the (variant, seed) runs across the
  // ranks (parallel: runs) or trains each run on all of them (parallel: data); auto is data for
  // a single run, runs otherwise.
  const auto& dist = core::distributed();
  const std::size_t n_runs = keys.variants.size() * seeds.size();
  const bool data_parallel = dist.active() && (keys.parallel == "data" || (keys.parallel == "auto" && n_runs == 1));
  const bool writer = dist.is_main();
  if (writer) record_input();
  core::log_info("run directory: {}  ({} variant(s) x {} seed(s), device {}{})", dir->path().string(),
                 keys.variants.size(), seeds.size(), core::describe_device(keys.run.device),
                 !dist.active()  ? std::string()
                 : data_parallel ? fmt::format("; data-parallel on {} ranks", dist.world_size())
                                 : fmt::format("; runs split across {} ranks", dist.world_size()));

  ExperimentReport report;
  report.dir = dir->path();
  report.name = keys.run.name;
  std::size_t index = 0;
  std::vector<std::string> mine;  // "index\n" + result.csv text of each run this rank did (runs split)
  for (const auto& v : keys.variants) {
    for (const auto seed : seeds) {
      RunRecord record{v.name, seed, run_dir_of(v, seed), {}};
      const auto i = index++;
      if (dist.active() && !data_parallel && static_cast<int64_t>(i) % dist.world_size() != dist.rank()) {
        report.runs.push_back(record);  // another rank's run: its outcome is gathered below
        continue;
      }
      auto config = variant_config(spec, text, origin, v);
      read_experiment_keys(config.root(), spec.kind);
      TrainJob job = spec.read_job(config.root(), keys.run, static_cast<uint64_t>(seed));
      config.finish();

      // A finished run is kept unless its step count was raised (then it continues from its checkpoint).
      if (auto done = spec.resume_dir.empty() ? std::nullopt : read_run_outcome(record.dir);
          done && (!done->stop_reason.empty() || done->steps >= job.trainer.steps())) {
        core::log_info("{} seed {}: finished earlier, kept", v.name, seed);
        record.outcome = *done;
      } else {
        fs::create_directories(record.dir);
        if (!single && (!data_parallel || writer)) {
          core::write_file_atomically(record.dir / "config.resolved.yaml", config.resolved_yaml());
        }
        core::log_info("{} seed {}: {}", v.name, seed, job.data.description);
        record.outcome = run_train_job(job, record.dir, !spec.resume_dir.empty(), fmt::format("{} s{}", v.name, seed),
                                       data_parallel ? &dist : nullptr);
      }
      mine.push_back(fmt::format("{}\n{}", i, format_run_outcome(record.outcome)));
      report.runs.push_back(record);
    }
  }
  if (dist.active() && !data_parallel) {
    // Every run's outcome, as its result.csv text (exact), in run order on every rank.
    for (const auto& part : dist.all_gather(fmt::format("{}", fmt::join(mine, "\x1e")))) {
      std::stringstream items(part);
      for (std::string item; std::getline(items, item, '\x1e');) {
        const auto newline = item.find('\n');
        report.runs[std::stoul(item.substr(0, newline))].outcome = parse_run_outcome(item.substr(newline + 1));
      }
    }
  }
  report.summary = summarize(report.runs);
  report.table = format_summary(report.summary, spec.table_metrics);
  if (writer) write_results(report.dir, report.runs, report.summary, report.table);
  return report;
}

}  // namespace regula::trainers
