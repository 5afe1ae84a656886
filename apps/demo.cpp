// regula demo: the README's main job.  A short run of each capability on
// embedded defaults: sparse recovery (window vs depth, MNIST-style image
// recovery) and a k-TV comparison, each with its tables, CSVs and PNGs.
#include <chrono>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/device.h"
#include "core/logging.h"
#include "trainers/sparse/demo.h"

namespace regula::apps {

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "short tour of both capabilities on embedded defaults (about 10 s on a 2-core CPU)");
  auto args = std::make_shared<core::RunRequest>();
  cmd->add_option("--out", args->runs_root, "root folder of run directories")->capture_default_str();
  cmd->callback([args] {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    core::log_info("== 1/2 implicit sparse regularization: depth-N diagonal networks, GD, early stopping");
    sparse::run_demo(*args);
    const double sparse_s = std::chrono::duration<double>(clock::now() - start).count();
    core::log_info("\n== 2/2 k-th order total variation: an MLP fit to noisy data with and without k-TV");
    run_ktv_demo(*args);
    const double total_s = std::chrono::duration<double>(clock::now() - start).count();
    fmt::print("\ndemo done in {} (sparse {}, k-TV {}); results under {}/\n", core::format_duration(total_s),
               core::format_duration(sparse_s), core::format_duration(total_s - sparse_s), args->runs_root);
  });
}

}  // namespace regula::apps
