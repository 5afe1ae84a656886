// A program using Regula as a library (built against the installed package, see
// CMakeLists.txt): a model and a regularizer from the registries by name, both registered in
// this folder, trained a few steps with a k-TV penalty next to the regularizer.
#include <torch/optim/adam.h>

#include "core/config.h"
#include "core/device.h"
#include "core/logging.h"
#include "core/plot.h"
#include "models/registry.h"
#include "regularizers/ktv.h"
#include "regularizers/regularizer.h"

int main() {
  using namespace regula;
  core::seed_everything(0);
  auto config = core::Config::from_string(
      "model: {kind: residual_mlp, width: 16, blocks: 2}\n"
      "regularizer: {kind: l2_to_init, weight: 1e-4}\n",
      "<consumer>");
  const auto x = torch::linspace(-1, 1, 64).unsqueeze(1);
  const auto y = x.pow(3);
  auto model = models::make_model(config.root().section("model"), 1, 1);
  auto l2 = regularizers::make_regularizer(config.root().section("regularizer"));
  config.finish();
  regularizers::KTV ktv(regularizers::KTVOptions(2).weight(1e-4).samples(64).domain({-1}, {1}));
  ktv.setup(model, x);
  l2->setup(model, x);
  torch::optim::Adam opt(model.module->parameters(), torch::optim::AdamOptions(1e-2));
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    auto loss = (model.forward(x) - y).pow(2).mean() + ktv.penalty(model) + l2->penalty(model);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  const auto script = core::plot_script();
  fmt::print("models: {}\n", fmt::join(models::registered_models(), " "));
  fmt::print("regularizers: {}\n", fmt::join(regularizers::registered_regularizers(), " "));
  fmt::print("fmt: {}\n", FMT_VERSION);
  fmt::print("plot script: {}\n", script.empty() ? "none" : script.string());
  fmt::print("residual_mlp with k-TV and l2_to_init, 30 Adam steps: loss {:.4g} -> {:.4g} ({})\n", first, last,
             last < first ? "decreased" : "NOT DECREASING");
  return last < first ? 0 : 1;
}
