// regula info: versions, device, and one tiny training step to prove the
// whole stack (LibTorch, autograd, optimizer, device) works.
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/version.h>
#include <yaml-cpp/yaml.h>

#include "apps/commands.h"
#include "core/distributed.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/plot.h"

namespace regula::apps {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "versions, device, and a tiny training step");
  auto device_spec = std::make_shared<std::string>("auto");
  cmd->add_option("--device", *device_spec, "auto | cpu | cuda | cuda:N")->capture_default_str();
  cmd->callback([device_spec] {
    core::require_single_process("info");
    const torch::Device device = core::resolve_device(*device_spec);
    fmt::print("regula      {}\n", REGULA_VERSION);
    fmt::print("libtorch    {} (CUDA build: {})\n", TORCH_VERSION, REGULA_WITH_CUDA ? "yes" : "no");
    fmt::print("distributed {}\n", core::distributed_support() ? "yes (torchrun / srun; Gloo on CPU, NCCL on CUDA)"
                                                                   : "no (install libgloo-dev and rebuild)");
    fmt::print("fmt         {}.{}.{}\n", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
    fmt::print("cuda        {} device(s) available\n", torch::cuda::is_available() ? torch::cuda::device_count() : 0);
    fmt::print("device      {}\n", core::describe_device(device));
    const auto plot_script = core::plot_script();
    fmt::print("plot script {}\n", plot_script.empty() ? "none found (set REGULA_PLOT_SCRIPT)" : plot_script.string());

    // A tiny regression step: the loss must drop.
    core::seed_everything(0);
    torch::nn::Linear model(4, 1);
    model->to(device);
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
    const auto x = torch::randn({64, 4}, torch::TensorOptions().device(device));
    const auto y = x.sum(1, true);
    double first = 0, last = 0;
    for (int step = 0; step < 20; ++step) {
      opt.zero_grad();
      auto loss = (model->forward(x) - y).pow(2).mean();
      loss.backward();
      opt.step();
      if (step == 0) first = loss.item<double>();
      last = loss.item<double>();
    }
    fmt::print("train step  20 SGD steps on {}: loss {:.4f} -> {:.4f} ({})\n", device.str(), first, last,
               last < first ? "ok" : "NOT DECREASING");
    if (!(last < first)) throw regula::Error("the tiny training step did not reduce the loss: the build is broken");
  });
}

}  // namespace regula::apps
