// regula train: minibatch training of any registered model with k-TV, L1/L2
// or no penalty; variants x seeds comparisons; exact --resume.
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "apps/commands.h"
#include "apps/common.h"
#include "core/distributed.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/plot.h"
#include "trainers/experiment.h"

namespace regula::apps {
namespace {



void run_train(const core::RunRequest& args) {
  const auto& resume_dir = args.resume_dir;
  trainers::ExperimentSpec spec;
  if (resume_dir.empty()) {
    if (args.config_path.empty()) {
      spec.yaml_text = trainers::kTrainDefaults;
      spec.origin = "<train defaults>";
    } else {
      core::Config::from_file(args.config_path);  // a clear error for a missing or malformed file
      std::ifstream in(args.config_path);
      std::stringstream ss;
      ss << in.rdbuf();
      spec.yaml_text = ss.str();
      spec.origin = args.config_path;
    }
  } else if (!args.config_path.empty()) {
    throw ConfigError("--resume continues a run with its own config.resolved.yaml: drop --config");
  }
  spec.overrides = args.overrides;
  spec.runs_root = args.runs_root;
  spec.resume_dir = resume_dir;
  const auto report = trainers::run_experiment(spec);
  if (!core::distributed().is_main()) return;  // rank 0 reports a distributed run
  core::run_plot_script("ktv.runs", report.dir);
  fmt::print("\n{} — {} run(s) in {}\n\n{}\n", report.name, report.runs.size(), report.dir.string(), report.table);
  for (const auto& r : report.runs) {
    if (!r.outcome.stop_reason.empty()) fmt::print("{} seed {}: {}\n", r.variant, r.seed, r.outcome.stop_reason);
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train a model (MLP or a registered module) with k-TV / L1 / L2 penalties");
  auto args = std::make_shared<core::RunRequest>();
  add_run_options(cmd, *args);
  add_resume_option(cmd, *args);
  cmd->callback([args] { run_train(*args); });
}

void run_ktv_demo(const core::RunRequest& request) {
  core::RunRequest demo = request;
  demo.config_path.clear();
  demo.resume_dir.clear();
  run_train(demo);
}

}  // namespace regula::apps
