// regula recover: parses the command line and runs the sparse-recovery experiment.
#include "apps/commands.h"
#include "trainers/sparse/recover.h"

namespace regula::apps {

void add_recover_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("recover", "sparse recovery with depth-N diagonal networks (windows, early stopping, baselines)");
  auto request = std::make_shared<core::RunRequest>();
  auto mnist_dir = std::make_shared<std::string>();
  add_run_options(cmd, *request);
  add_resume_option(cmd, *request);
  cmd->add_option("--mnist-dir", *mnist_dir, "folder with MNIST IDX files (raw or .gz): sets data.kind=mnist");
  cmd->callback([request, mnist_dir] {
    core::RunRequest r = *request;
    if (!mnist_dir->empty()) r.overrides.insert(r.overrides.begin(), {"data.kind=mnist", "data.mnist_dir=" + *mnist_dir});
    sparse::run_recover(r);
  });
}

}  // namespace regula::apps
