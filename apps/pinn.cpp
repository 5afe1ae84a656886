// regula pinn: physics-informed training of a network on a PDE (shipped or registered), with
// derivatives from the Taylor-mode engine; variants x seeds, exact --resume, plots.
#include "apps/commands.h"
#include "apps/common.h"
#include "core/distributed.h"
#include "core/plot.h"
#include "trainers/pinn/pinn_job.h"

namespace regula::apps {

void add_pinn_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("pinn", "physics-informed training on a PDE (poisson2d, heat, burgers, kdv, beam, "
                                         "biharmonic2d, poisson_nd, or a registered one)");
  auto args = std::make_shared<core::RunRequest>();
  add_run_options(cmd, *args);
  add_resume_option(cmd, *args);
  cmd->callback([args] {
    auto spec = trainers::experiment_spec(*args, pinn::kPinnDefaults, "<pinn defaults>");
    spec.read_job = pinn::read_pinn_job;
    spec.kind = "pinn";
    spec.table_metrics = {"test_rel_l2", "penalty", "loss_residual", "test_mse"};
    const auto report = trainers::run_experiment(spec);
    if (!core::distributed().is_main()) return;  // rank 0 reports a distributed run
    core::run_plot_script("pinn.runs", report.dir);
    print_report(report);
  });
}

}  // namespace regula::apps
