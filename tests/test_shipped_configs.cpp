// Every config shipped in configs/ runs: each is loaded by its command, validated (unknown keys,
// bad values) and run for a few steps, so a renamed key or a changed default cannot leave a
// published experiment broken.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"

using regula::testutil::RegulaTest;
using regula::testutil::run_command;
namespace fs = std::filesystem;

class ShippedConfigs : public RegulaTest {};

TEST_F(ShippedConfigs, EveryConfigRunsAFewSteps) {
  const fs::path source = REGULA_SOURCE_DIR;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(source / "configs")) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() != ".yaml") continue;
    std::string command, tiny;
    if (name.rfind("ktv_", 0) == 0) {
      command = "train";
      tiny = "train.steps=4 train.eval_every=2 'seeds=[0]'";
    } else if (name.rfind("pinn_", 0) == 0) {
      command = "pinn";
      tiny = "train.steps=3 train.eval_every=2 physics.collocation=32 physics.boundary=16 physics.test_grid=5 "
             "physics.test_points=50";
    } else if (name.find("sweep") != std::string::npos || name.find("map") != std::string::npos) {
      command = "sweep";
      tiny = "train.steps=20 seeds=[0]";
    } else {
      command = "recover";
      tiny = "train.steps=20 seeds=[0] baselines.lasso_max_epochs=5";
    }
    // Run from the source tree (configs name their data files relative to it); no plots.
    const auto r = run_command(fmt::format("cd {} && REGULA_PYTHON= {} --quiet {} --config {} --out {} device=cpu {}",
                                           source.string(), regula::testutil::regula_bin(), command,
                                           entry.path().string(), tmp().string(), tiny));
    EXPECT_EQ(r.status, 0) << name << ":\n" << r.output;
    ++checked;
  }
  EXPECT_GE(checked, 17);
}
