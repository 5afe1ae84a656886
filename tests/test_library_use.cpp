// The library use shown in README.md ("The library from your own C++ code"),
// compiled and run: an MLP trained a few steps with a k-TV penalty.
#include <gtest/gtest.h>
#include <torch/optim/adam.h>

#include "models/mlp.h"
#include "regularizers/ktv.h"
#include "tests/test_util.h"

TEST(LibraryUse, ReadmeSnippetTrainsAnMlpWithKtv) {
  regula::core::seed_everything(0);
  const auto x_train = torch::rand({64, 2}) * 6.28;
  const auto y_train = (x_train.select(1, 0) - x_train.select(1, 1)) / 6.28;  // the "plane" target
  auto mlp = regula::models::MLP(regula::models::MLPOptions({2, 100, 100, 1}).activation("sigmoid"));
  auto model = regula::models::as_model(mlp);
  regula::regularizers::KTV ktv(
      regula::regularizers::KTVOptions(2).weight(1e-3).samples(256).domain({0, 0}, {6.28, 6.28}));
  ktv.setup(model, x_train);  // picks the Taylor-mode engine for an MLP
  torch::optim::Adam opt(mlp->parameters(), torch::optim::AdamOptions(1e-2));
  double first = 0, last = 0;
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    auto loss = (model.forward(x_train).squeeze(1) - y_train).pow(2).mean() + ktv.penalty(model);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, 0.5 * first);
}
