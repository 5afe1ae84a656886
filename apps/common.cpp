#include "apps/common.h"

#include <fmt/format.h>

namespace regula::apps {

void add_run_options(CLI::App* cmd, core::RunRequest& request) {
  cmd->add_option("--config,-c", request.config_path, "YAML config file (default: the embedded defaults)");
  cmd->add_option("--out", request.runs_root, "root folder of run directories")->capture_default_str();
  cmd->add_option("overrides", request.overrides, "config overrides as dotted.key=value, e.g. train.lr=1e-3");
}

void add_resume_option(CLI::App* cmd, core::RunRequest& request) {
  cmd->add_option("--resume", request.resume_dir,
                  "continue an interrupted run directory from its checkpoint (key=value overrides still apply, "
                  "e.g. a larger train.steps)");
}

void print_report(const trainers::ExperimentReport& report) {
  fmt::print("\n{} — {} run(s) in {}\n\n{}\n", report.name, report.runs.size(), report.dir.string(), report.table);
  for (const auto& r : report.runs) {
    if (!r.outcome.stop_reason.empty()) fmt::print("{} seed {}: {}\n", r.variant, r.seed, r.outcome.stop_reason);
  }
}

}  // namespace regula::apps
