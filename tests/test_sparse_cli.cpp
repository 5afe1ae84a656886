// End-to-end runs of `regula recover` and `regula sweep` with tiny overrides.
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "core/run_dir.h"
#include "trainers/sparse/problem.h"
#include "core/tabular.h"
#include "tests/test_util.h"

using namespace regula;
using regula::testutil::RegulaTest;
using regula::testutil::run_command;

namespace fs = std::filesystem;

class SparseCli : public RegulaTest {
 protected:
  fs::path only_run(const std::string& name) {
    std::vector<fs::path> runs;
    for (const auto& e : fs::directory_iterator(tmp() / name)) runs.push_back(e.path());
    EXPECT_EQ(runs.size(), 1u);
    return runs.empty() ? fs::path() : runs.front();
  }
  std::string cmd(const std::string& sub, const std::string& extra) {
    return fmt::format("{} {} --out {} {}", testutil::regula_bin(), sub, tmp().string(), extra);
  }
};

TEST_F(SparseCli, RecoverWritesTablesCsvsAndPlots) {
  const auto r = run_command(cmd("recover", "device=cpu data.n=40 data.d=60 data.k=3 seeds=[0,1,2] "
                                            "train.steps=300 train.lr=[0.02,0.01] model.depths=[2,3] "
                                            "baselines.lasso_max_epochs=100"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("min-norm LS"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Lasso"), std::string::npos);
  const auto dir = only_run("recover");
  for (const char* f : {"config.resolved.yaml", "summary.csv", "curves.csv", "paths.csv", "runs.csv",
                        "early_stopping_N2.csv", "plots/paths.png", "plots/error_curves.png"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f << "\n" << r.output;
  }
  const auto runs = core::read_csv(dir / "runs.csv", /*finite_only=*/false);
  EXPECT_EQ(runs.values.size(0), 6);  // 2 depths x 3 replicates
  const auto curves = core::read_csv(dir / "curves.csv", false);
  EXPECT_EQ(curves.values.size(0), 2 * 31);  // logged every 10 steps, 0..300
}

TEST_F(SparseCli, RecoverDigitAndMnistMakeAnImageGrid) {
  auto r = run_command(cmd("recover", "device=cpu data.kind=digit data.n=300 data.design=gaussian data.sigma=0 "
                                      "model.depths=[2] model.parametrization=positive model.w0=1e-4 train.lr=0.002 "
                                      "train.steps=200 baselines.lasso_max_epochs=50"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("PSNR"), std::string::npos) << r.output;
  const auto dir = only_run("recover");
  EXPECT_TRUE(fs::exists(dir / "plots/recovery_grid.png"));
  EXPECT_TRUE(fs::exists(dir / "plots/recovery.png"));
  // An MNIST folder with a (tiny) gzipped IDX file; and a truncated one.
  fs::create_directories(tmp() / "mnist");
  std::string bytes;
  for (uint32_t v : {0x803u, 2u, 28u, 28u})
    for (int b = 3; b >= 0; --b) bytes.push_back(char((v >> (8 * b)) & 0xff));
  for (int i = 0; i < 2 * 784; ++i) bytes.push_back(char((i % 28 > 10 && i % 28 < 16) ? 200 : 0));
  std::ofstream(tmp() / "mnist/train-images-idx3-ubyte", std::ios::binary) << bytes;
  r = run_command(cmd("recover", "--mnist-dir " + (tmp() / "mnist").string() + " device=cpu data.n=100 model.depths=[2] "
                      "model.parametrization=positive train.steps=20 baselines.lasso=false name=mnist"));
  EXPECT_EQ(r.status, 0) << r.output;
  std::ofstream(tmp() / "mnist/train-images-idx3-ubyte", std::ios::binary) << bytes.substr(0, 700);
  r = run_command(cmd("recover", "--mnist-dir " + (tmp() / "mnist").string() + " device=cpu name=mnist2"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
}

TEST_F(SparseCli, RecoverReadsUsersOwnProblemFromFiles) {
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(60, 80, 3).sigma(0.1).seed(9));
  core::write_npy(tmp() / "X.npy", pr.X);
  core::write_npy(tmp() / "y.npy", pr.y);
  core::write_npy(tmp() / "w.npy", pr.w_star);
  const auto files = fmt::format("data.kind=files data.x={0}/X.npy data.y={0}/y.npy data.w_star={0}/w.npy ",
                                 tmp().string());
  auto r = run_command(cmd("recover", "device=cpu model.depths=[2] train.steps=300 " + files));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("n = 48, d = 80"), std::string::npos) << r.output;  // 20% held out
  EXPECT_TRUE(fs::exists(only_run("recover") / "curves.csv"));
  // Without w*: data-driven early stopping and baselines still run.
  r = run_command(cmd("recover", fmt::format("device=cpu name=now model.depths=[2] train.steps=300 "
                                             "data.kind=files data.x={0}/X.npy data.y={0}/y.npy", tmp().string())));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("no w*"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(only_run("now") / "early_stopping_N2.csv"));
  EXPECT_TRUE(fs::exists(only_run("now") / "estimates.npy"));
  // An image given as files: the columns of X are its pixels; the recovered images are written.
  r = run_command(cmd("recover", fmt::format("device=cpu name=img model.depths=[2,3] train.steps=200 {} "
                                             "data.image_shape=[8,10]", files)));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto images = core::read_array(only_run("img") / "recovery_images.npy");
  EXPECT_EQ(images.sizes(), (std::vector<int64_t>{1, 5, 8, 10}));  // original, 2 baselines, 2 depths
  EXPECT_TRUE(fs::exists(only_run("img") / "plots/recovery_grid.png"));
  r = run_command(cmd("recover", fmt::format("device=cpu name=img2 {} data.image_shape=[9,10]", files)));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("has 90 pixels but X has 80 columns"), std::string::npos) << r.output;
}

TEST_F(SparseCli, SweepWritesOneRowPerConfiguration) {
  const auto r = run_command(cmd("sweep", "device=cpu data.n=[20,40] data.d=50 data.k=2 seeds=[0,1,2] "
                                          "model.depths=[2,3] model.w0=[1e-4,1e-3] train.lr=[0.01] train.steps=200"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("P(recovered)"), std::string::npos) << r.output;
  const auto dir = only_run("sweep");
  const auto t = core::read_csv(dir / "sweep.csv", false);
  EXPECT_EQ(t.values.size(0), 2 * 3 * 2 * 2);  // n x seeds x depths x w0
  const auto rec = t.values.select(1, t.column("recovered"));
  EXPECT_TRUE(rec.eq(0).logical_or(rec.eq(1)).all().item<bool>());
  EXPECT_TRUE(fs::exists(dir / "plots/phase_transition.png")) << r.output;
  EXPECT_TRUE(fs::exists(dir / "plots/window_map.png"));
}

TEST_F(SparseCli, BadInputGivesOneLineAndNonZeroExit) {
  for (const std::string& extra : {"train.etaa=0.1", "train.steps=abc", "data.design=uniform", "model.w0=-1"}) {
    const auto r = run_command(testutil::regula_bin() + " --quiet recover --out " + tmp().string() + " device=cpu " + extra);
    EXPECT_EQ(r.status, 2) << extra << ": " << r.output;
    EXPECT_EQ(r.output.rfind("error: ", 0), 0u) << extra << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << extra << ": " << r.output;
  }
  const auto r = run_command(cmd("sweep", "device=cpu model.depths=[2] train.lr=5 model.w0=[0.5] data.n=[30] "
                                          "train.steps=100 seeds=[0]"));
  EXPECT_EQ(r.status, 0) << r.output;  // a diverged run in a sweep is marked, not fatal
  const auto d = run_command(cmd("recover", "device=cpu model.depths=[2] train.lr=5 model.w0=0.5 train.steps=300"));
  EXPECT_EQ(d.status, 2) << d.output;
  EXPECT_NE(d.output.find("smaller train.lr"), std::string::npos) << d.output;
}

TEST_F(SparseCli, InterruptedSweepAndRecoverResumeToTheSameResults) {
  const std::string grid = "device=cpu data.n=[20,40] data.d=50 data.k=2 seeds=[0,1] model.depths=[2,3] "
                           "train.lr=[0.01] train.checkpoint_every=100 ";
  // No plots (REGULA_PYTHON empty): this test is about the numbers.
  const auto run = [&](const std::string& sub, const std::string& extra) { return run_command("REGULA_PYTHON= " + cmd(sub, extra)); };
  const auto resume = [&](const std::string& sub, const fs::path& dir, const std::string& extra) {
    return run_command(fmt::format("REGULA_PYTHON= {} {} --resume {} {}", testutil::regula_bin(), sub, dir.string(), extra));
  };
  const auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // Sweep: whole run to 400 steps vs a run stopped at 200 and resumed with max_steps raised.
  ASSERT_EQ(run("sweep", grid + "train.steps=400 name=whole").status, 0);
  ASSERT_EQ(run("sweep", grid + "train.steps=200 name=part").status, 0);
  const auto part = only_run("part");
  ASSERT_TRUE(fs::exists(part / "checkpoints/batched_gd.pt"));
  const auto resumed = resume("sweep", part, "train.steps=400");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed 8 runs at step 200"), std::string::npos) << resumed.output;
  EXPECT_EQ(slurp(part / "sweep.csv"), slurp(only_run("whole") / "sweep.csv"));
  // A resumption with other data is refused, and the run's config is left as it was.
  const auto config_before = slurp(part / "config.resolved.yaml");
  EXPECT_NE(config_before.find("steps: 400"), std::string::npos) << config_before;
  const auto other = resume("sweep", part, "data.sigma=0.3");
  EXPECT_EQ(other.status, 2) << other.output;
  EXPECT_NE(other.output.find("different run"), std::string::npos) << other.output;
  EXPECT_EQ(slurp(part / "config.resolved.yaml"), config_before);
  const auto both = resume("sweep", part, "--config x.yaml");
  EXPECT_EQ(both.status, 2) << both.output;
  // Recover: the same for its batched depth x replicate runs.
  const std::string rec = "device=cpu data.n=40 data.d=60 data.k=2 seeds=[0,1] model.depths=[2,3] "
                          "train.checkpoint_every=100 baselines.lasso=false ";
  ASSERT_EQ(run("recover", rec + "train.steps=300 name=rwhole").status, 0);
  ASSERT_EQ(run("recover", rec + "train.steps=150 name=rpart").status, 0);
  const auto rpart = only_run("rpart");
  const auto rres = resume("recover", rpart, "train.steps=300");
  ASSERT_EQ(rres.status, 0) << rres.output;
  EXPECT_EQ(slurp(rpart / "runs.csv"), slurp(only_run("rwhole") / "runs.csv"));
  EXPECT_EQ(slurp(rpart / "curves.csv"), slurp(only_run("rwhole") / "curves.csv"));
}

TEST_F(SparseCli, KilledAtRandomMomentsEvenInsideCheckpointWritesResumesToTheSameResults) {
  // Large enough that checkpoints (written at every logged step) take a while to write, so
  // kill -9 lands inside a write as often as outside one.
  const std::string grid = "device=cpu data.n=[150] data.d=3000 data.k=5 seeds=[0,1,2] model.depths=[2,3] "
                           "train.steps=4000 train.eval_every=10 train.checkpoint_every=10 ";
  const auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_EQ(run_command("REGULA_PYTHON= " + cmd("sweep", grid + "name=whole")).status, 0);
  const auto expected = slurp(only_run("whole") / "sweep.csv");
  // First start, killed; then resumed and killed again, twice; then resumed to the end.
  auto r = run_command("REGULA_PYTHON= timeout -s KILL 2.5 " + cmd("sweep", grid + "name=killed"));
  ASSERT_EQ(r.status, 137) << "the run finished before it was killed: make it longer\n" << r.output;
  const auto dir = only_run("killed");
  std::mt19937 rng(7);
  for (int round = 0; round < 2; ++round) {
    const double after = 1.2 + 0.1 * static_cast<double>(rng() % 10);
    r = run_command(fmt::format("REGULA_PYTHON= timeout -s KILL {} {} sweep --resume {}", after,
                                testutil::regula_bin(), dir.string()));
    EXPECT_TRUE(r.status == 137 || r.status == 0) << r.output;
  }
  r = run_command(fmt::format("REGULA_PYTHON= {} sweep --resume {}", testutil::regula_bin(), dir.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(slurp(dir / "sweep.csv"), expected);
  for (const auto& e : fs::recursive_directory_iterator(dir)) EXPECT_NE(e.path().extension(), ".tmp") << e.path();
}
