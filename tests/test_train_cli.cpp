// `regula train` end to end: outputs of a run and of a comparison, resume, and one-line errors.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "trainers/experiment.h"

using namespace regula;
using regula::testutil::RegulaTest;
using regula::testutil::regula_bin;
using regula::testutil::run_command;

namespace {

// Tiny overrides so that a run takes a second or two.
const std::string kTiny =
    " train.steps=40 train.eval_every=10 data.n=40 data.n_val=20 data.test_points=50 model.hidden=[16]";

std::filesystem::path only_run_dir(const std::filesystem::path& root, const std::string& name) {
  std::vector<std::filesystem::path> dirs;
  for (const auto& e : std::filesystem::directory_iterator(root / name)) dirs.push_back(e.path());
  return dirs.size() == 1 ? dirs.front() : std::filesystem::path();
}

int count_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// The error of a failed command: exactly one line starting with "error:".
void expect_one_error_line(const testutil::CommandResult& r, const std::string& needle) {
  EXPECT_NE(r.status, 0) << r.output;
  int error_lines = 0;
  std::stringstream ss(r.output);
  for (std::string line; std::getline(ss, line);) error_lines += line.rfind("error:", 0) == 0;
  EXPECT_EQ(error_lines, 1) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << r.output;
}

}  // namespace

class TrainCli : public RegulaTest {
 protected:
  testutil::CommandResult train(const std::string& args) {
    return run_command(regula_bin() + " train --out " + tmp().string() + " " + args);
  }
};

TEST_F(TrainCli, SingleRunWritesMetricsPlotsAndSummary) {
  const auto r = train("variants=[none] regularizer.kind=ktv regularizer.order=2 regularizer.weight=1e-4"
                       " regularizer.samples=16" + kTiny);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto dir = only_run_dir(tmp(), "ktv_quick");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(count_lines(dir / "metrics.csv"), 1 + 4);  // header + evaluations at 10, 20, 30, 40
  for (const char* f : {"config.resolved.yaml", "results.csv", "summary.csv", "summary.md", "predictions.csv",
                        "train.csv", "result.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "plots" / "fits.png")) << r.output;
  EXPECT_NE(r.output.find("test_pearson (mean ± sd)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| none "), std::string::npos) << r.output;
}

TEST_F(TrainCli, VariantsTimesSeedsAndResume) {
  const auto r = train("seeds=[0,1] train.checkpoint_every=20" + kTiny);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto dir = only_run_dir(tmp(), "ktv_quick");
  for (const char* v : {"none", "ktv_k2"}) {
    for (const char* s : {"seed0", "seed1"}) {
      EXPECT_TRUE(std::filesystem::exists(dir / v / s / "metrics.csv")) << v << "/" << s;
      EXPECT_TRUE(std::filesystem::exists(dir / v / s / "checkpoints" / "step_00000040.pt")) << v << "/" << s;
    }
  }
  EXPECT_EQ(count_lines(dir / "results.csv"), 1 + 4);
  EXPECT_EQ(count_lines(dir / "summary.csv"), 1 + 2);
  // Interrupt one run: it lost its result and its last checkpoint; --resume redoes only that one.
  std::filesystem::remove(dir / "ktv_k2" / "seed1" / "result.csv");
  std::filesystem::remove(dir / "ktv_k2" / "seed1" / "checkpoints" / "step_00000040.pt");
  const auto before = [&] {
    std::ifstream in(dir / "ktv_k2" / "seed1" / "metrics.csv");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  const auto again = run_command(regula_bin() + " train --resume " + dir.string());
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("finished earlier, kept"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("resumed at step 20"), std::string::npos) << again.output;
  std::ifstream in(dir / "ktv_k2" / "seed1" / "metrics.csv");
  std::stringstream after;
  after << in.rdbuf();
  EXPECT_EQ(after.str(), before);  // the resumed half logged exactly what the first run had
  // A metrics.csv cut inside a row no longer matches its checkpoint: refused, not padded.
  std::filesystem::remove(dir / "ktv_k2" / "seed1" / "result.csv");
  std::filesystem::remove(dir / "ktv_k2" / "seed1" / "checkpoints" / "step_00000040.pt");
  const auto text = after.str();
  std::ofstream(dir / "ktv_k2" / "seed1" / "metrics.csv", std::ios::trunc) << text.substr(0, text.find('\n', text.find('\n') + 1) + 5);
  const auto cut = run_command(regula_bin() + " train --resume " + dir.string());
  EXPECT_EQ(cut.status, 2) << cut.output;
  EXPECT_NE(cut.output.find("holds 1 whole rows but the checkpoint logged 2"), std::string::npos) << cut.output;
}

TEST_F(TrainCli, ResumeWithMoreStepsExtendsAFinishedRunAndIsRecorded) {
  const auto r = train("variants=[none] train.checkpoint_every=20" + kTiny);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto dir = only_run_dir(tmp(), "ktv_quick");
  ASSERT_EQ(count_lines(dir / "metrics.csv"), 1 + 4);
  // Another configuration is refused, naming the first difference, and nothing is rewritten.
  const auto other = run_command(regula_bin() + " train --resume " + dir.string() + " train.optimizer.lr=0.5");
  EXPECT_NE(other.status, 0) << other.output;
  EXPECT_NE(other.output.find("train.optimizer.lr: 0.001' in the checkpoint, 'train.optimizer.lr: 0.5' now"),
            std::string::npos) << other.output;
  // A finished run trains on when its step count is raised...
  const auto more = run_command(regula_bin() + " train --resume " + dir.string() + " train.steps=60");
  ASSERT_EQ(more.status, 0) << more.output;
  EXPECT_EQ(more.output.find("finished earlier, kept"), std::string::npos) << more.output;
  EXPECT_NE(more.output.find("resumed at step 40"), std::string::npos) << more.output;
  EXPECT_EQ(count_lines(dir / "metrics.csv"), 1 + 6);
  // ...the new value is recorded, so a second plain --resume finds the run finished.
  std::ifstream cfg(dir / "config.resolved.yaml");
  const std::string resolved((std::istreambuf_iterator<char>(cfg)), {});
  EXPECT_NE(resolved.find("steps: 60"), std::string::npos) << resolved;
  const auto again = run_command(regula_bin() + " train --resume " + dir.string());
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("finished earlier, kept"), std::string::npos) << again.output;
  EXPECT_EQ(count_lines(dir / "metrics.csv"), 1 + 6);
}

TEST_F(TrainCli, ASingleRunOfAVariantWithOverridesResumes) {
  const auto r = train("'variants=[\"l2: regularizer.kind=l2 regularizer.weight=1e-3\"]' train.checkpoint_every=20" + kTiny);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto dir = only_run_dir(tmp(), "ktv_quick");
  std::filesystem::remove(dir / "result.csv");
  const auto again = run_command(regula_bin() + " train --resume " + dir.string());
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("resumed at step 40"), std::string::npos) << again.output;
}

TEST_F(TrainCli, BadInputsGiveOneLineAndNonZeroExit) {
  expect_one_error_line(train("train.stepz=5"), "unknown key 'train.stepz'; did you mean 'train.steps'?");
  expect_one_error_line(train("train.steps=many"), "'train.steps' must be an integer");
  expect_one_error_line(train("data.kind=csv data.path=" + (tmp() / "missing.csv").string()), "cannot open CSV file");
  expect_one_error_line(train("model.kind=transformer"), "registered kinds are");
  expect_one_error_line(train("'variants=[\"a: b\"]'"), "is not key=value");
  expect_one_error_line(train("--resume " + tmp().string()), "is not a Regula run directory");
  expect_one_error_line(train("--config " + (tmp() / "none.yaml").string()), "cannot open config file");
  // Two rows leave no validation rows: early stopping on val_loss says so before training.
  std::ofstream(tmp() / "two.csv") << "x,y\n1,2\n3,4\n";
  expect_one_error_line(train("variants=[none] data.kind=csv data.path=" + (tmp() / "two.csv").string() +
                              " data.target=null data.n=null data.noise=null data.n_val=null data.test_points=null"
                              " train.early_stopping.enabled=true"),
                        "needs validation rows, and this data has none");
  // Divergence is an error exit with the fix, not a table of NaNs.
  const auto diverged = train("variants=[none] train.optimizer.kind=sgd train.optimizer.lr=1e3" + kTiny);
  expect_one_error_line(diverged, "use a smaller train.optimizer.lr");
  EXPECT_EQ(diverged.status, 2) << diverged.output;
}

TEST(Variants, ParseAndSummarize) {
  const auto v = trainers::parse_variant("ktv_k2: regularizer.kind=ktv regularizer.order=2");
  EXPECT_EQ(v.name, "ktv_k2");
  EXPECT_EQ(v.overrides, (std::vector<std::string>{"regularizer.kind=ktv", "regularizer.order=2"}));
  EXPECT_TRUE(trainers::parse_variant("none").overrides.empty());
  EXPECT_THROW(trainers::parse_variant("bad name: a=1"), ConfigError);
  EXPECT_THROW(trainers::parse_variant("x: a"), ConfigError);
  std::vector<trainers::RunRecord> runs(3);
  runs[0].variant = runs[1].variant = "a";
  runs[2].variant = "b";
  runs[0].outcome.metrics["test_mse"] = 1.0;
  runs[1].outcome.metrics["test_mse"] = 3.0;
  runs[2].outcome.metrics["test_mse"] = 5.0;
  const auto s = trainers::summarize(runs);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].runs, 2);
  EXPECT_DOUBLE_EQ(s[0].stats.at("test_mse").first, 2.0);
  EXPECT_DOUBLE_EQ(s[0].stats.at("test_mse").second, std::sqrt(2.0));  // sample sd
  EXPECT_DOUBLE_EQ(s[1].stats.at("test_mse").second, 0.0);
  EXPECT_NE(trainers::format_summary(s).find("2 ± 1.4"), std::string::npos) << trainers::format_summary(s);
}
