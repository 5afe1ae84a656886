// regula sweep: parses the command line and runs the batched grid of diagonal-network GD runs.
#include "apps/commands.h"
#include "trainers/sparse/sweep.h"

namespace regula::apps {

void add_sweep_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("sweep", "batched grid of diagonal-network GD runs (N x w0 x lr x seed x n)");
  auto request = std::make_shared<core::RunRequest>();
  add_run_options(cmd, *request);
  add_resume_option(cmd, *request);
  cmd->callback([request] { sparse::run_sweep(*request); });
}

}  // namespace regula::apps
