// regula train: minibatch training of any registered model with k-TV, L1/L2
// or no penalty; variants x seeds comparisons; exact --resume.
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
  const auto spec = trainers::experiment_spec(args, trainers::kTrainDefaults, "<train defaults>");
  const auto report = trainers::run_experiment(spec);
  if (!core::distributed().is_main()) return;  // rank 0 reports a distributed run
  core::run_plot_script("ktv.runs", report.dir);
  print_report(report);
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
