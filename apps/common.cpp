#include "apps/common.h"

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

}  // namespace regula::apps
