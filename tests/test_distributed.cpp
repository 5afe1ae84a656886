// Scale-out on c10d (core/distributed.h): the launch environment; 2 ranks on 127.0.0.1
// (spawned here with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT on a free port) writing
// exactly the files of one process (sweep, train runs split across ranks); data-parallel
// training keeping the ranks identical and equal to one process with the same global batch;
// its resume; a rank killed mid-run stopping the other with one line.  The 2-rank tests skip
// in builds without distributed support (no gloo headers).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <torch/serialize.h>

#include "core/distributed.h"
#include "models/mlp.h"
#include "regularizers/regularizer.h"
#include "tests/test_util.h"
#include "trainers/data.h"
#include "trainers/minibatch.h"

using namespace regula;
using regula::testutil::RegulaTest;
using regula::testutil::regula_bin;
namespace fs = std::filesystem;

namespace {

// Sets environment variables for one scope.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::string>> vars) {
    for (const auto& v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_PROCID",
                          "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_JOB_ID", "SLURM_LAUNCH_NODE_IPADDR",
                          "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"}) {
      if (const char* old = std::getenv(v)) saved_.emplace_back(v, old);
      ::unsetenv(v);
      names_.push_back(v);
    }
    for (const auto& [k, v] : vars) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const auto& n : names_) ::unsetenv(n.c_str());
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::pair<std::string, std::string>> saved_;
};

// A TCP port nobody listens on right now (the kernel picks it).
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A CSV without one column (e.g. wall-clock seconds).
std::string drop_column(const std::string& csv, const std::string& column) {
  std::stringstream in(csv);
  std::string out, line;
  int drop = -1;
  for (bool header = true; std::getline(in, line); header = false) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
    if (header) {
      for (std::size_t i = 0; i < cells.size(); ++i) drop = cells[i] == column ? int(i) : drop;
    }
    if (drop >= 0 && drop < int(cells.size())) cells.erase(cells.begin() + drop);
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
    out += "\n";
  }
  return out;
}

fs::path only_run_dir(const fs::path& root, const std::string& name) {
  std::vector<fs::path> dirs;
  if (fs::is_directory(root / name)) {
    for (const auto& e : fs::directory_iterator(root / name)) dirs.push_back(e.path());
  }
  return dirs.size() == 1 ? dirs.front() : fs::path();
}

struct RankRun {
  int status = -1;
  std::string output;
};

// Launches `world` processes of `command` as ranks of one job on 127.0.0.1 (a fresh free
// port), each under `timeout` so that a hang fails the test instead of blocking it.
std::vector<RankRun> launch(int world, const std::string& command, const fs::path& logs, int timeout_s = 600) {
  fs::create_directories(logs);
  const int port = free_port();
  std::string script;
  for (int r = 0; r < world; ++r) {
    const auto log = (logs / ("rank" + std::to_string(r) + ".log")).string();
    const auto rc = (logs / ("rank" + std::to_string(r) + ".rc")).string();
    script += "(RANK=" + std::to_string(r) + " LOCAL_RANK=" + std::to_string(r) + " WORLD_SIZE=" +
              std::to_string(world) + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " timeout -s KILL " +
              std::to_string(timeout_s) + " " + command + " >" + log + " 2>&1; echo $? >" + rc + ") & ";
  }
  script += "wait";
  testutil::run_command(script);
  std::vector<RankRun> out(static_cast<std::size_t>(world));
  for (int r = 0; r < world; ++r) {
    const auto rc = read_file(logs / ("rank" + std::to_string(r) + ".rc"));
    out[static_cast<std::size_t>(r)] = {rc.empty() ? -1 : std::stoi(rc), read_file(logs / ("rank" + std::to_string(r) + ".log"))};
  }
  return out;
}

#define REGULA_REQUIRE_DISTRIBUTED() \
  if (!::regula::core::distributed_support()) GTEST_SKIP() << "this build has no distributed support (no gloo headers)"

std::string all_output(const std::vector<RankRun>& runs) {
  std::string s;
  for (std::size_t r = 0; r < runs.size(); ++r) s += "--- rank " + std::to_string(r) + "\n" + runs[r].output;
  return s;
}

// The data-parallel worker (main() at the end runs it in processes of this binary): trains a small MLP on the cubic with the launch environment's ranks and saves its
// parameters to $REGULA_TEST_OUT/rank<r>.pt.
trainers::TrainResult train_small(const core::DistributedContext* dist, bool noisy_penalty, const fs::path& out);

}  // namespace

TEST(DistributedEnv, ReadsTorchrunThenSlurmAndRefusesBadValues) {
  {
    ScopedEnv env({});
    const auto e = core::read_launch_env();
    EXPECT_EQ(e.world_size, 1);
    EXPECT_EQ(e.launcher, "");
  }
  {
    ScopedEnv env({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.0.0.2"},
                   {"MASTER_PORT", "29411"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                   {"TORCHELASTIC_RESTART_COUNT", "2"}, {"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "8"}});
    const auto e = core::read_launch_env();
    EXPECT_EQ(e.launcher, "torchrun");  // torchrun's variables win over Slurm's
    EXPECT_EQ(e.rank, 1);
    EXPECT_EQ(e.world_size, 4);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.master_addr, "10.0.0.2");
    EXPECT_EQ(e.master_port, 29411);
    EXPECT_TRUE(e.agent_store);
    EXPECT_EQ(e.restart_count, 2);
  }
  {
    ScopedEnv env({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"}, {"SLURM_JOB_ID", "123"},
                   {"MASTER_ADDR", "node7"}});
    const auto e = core::read_launch_env();
    EXPECT_EQ(e.launcher, "slurm");
    EXPECT_EQ(e.rank, 3);
    EXPECT_EQ(e.world_size, 4);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.master_addr, "node7");
    EXPECT_EQ(e.master_port, 20123);
    EXPECT_FALSE(e.agent_store);
  }
  for (const auto& bad : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}},
           {{"RANK", "x"}, {"WORLD_SIZE", "2"}},
           {{"RANK", "0"}},
           {{"RANK", "0"}, {"WORLD_SIZE", "2"}}}) {
    ScopedEnv env(bad);
    EXPECT_THROW(core::read_launch_env(), DistributedError);
  }
}

TEST(DistributedEnv, ShardsCoverTheRangeOnceAndAWorldOfOneIsANoOp) {
  for (int64_t n : {0, 1, 5, 50}) {
    for (int64_t w : {1, 2, 3, 7}) {
      int64_t next = 0;
      for (int64_t r = 0; r < w; ++r) {
        const auto [b, e] = core::shard_range(n, r, w);
        EXPECT_EQ(b, next);
        EXPECT_LE(e - b, n / w + 1);
        next = e;
      }
      EXPECT_EQ(next, n);
    }
  }
  const core::DistributedContext one;
  std::vector<torch::Tensor> t{torch::ones({3})};
  one.all_reduce_sum(t);
  EXPECT_TRUE(torch::equal(t[0], torch::ones({3})));
  EXPECT_EQ(one.all_gather(std::string("x")), std::vector<std::string>{"x"});
}

class DistributedCli : public RegulaTest {};

// Sharded sweep: rank 0 gathers every run and writes the one-process sweep.csv byte for byte.
TEST_F(DistributedCli, TwoRankSweepWritesTheFilesOfOneProcess) {
  REGULA_REQUIRE_DISTRIBUTED();
  const std::string args = " --quiet sweep seeds=[0,1,2] data.n=[20,40] data.d=60 model.depths=[2,3] train.steps=300 "
                           "train.eval_every=10";
  const auto one = testutil::run_command(regula_bin() + args + " --out " + (tmp() / "one").string());
  ASSERT_EQ(one.status, 0) << one.output;
  const auto two = launch(2, regula_bin() + args + " --out " + (tmp() / "two").string(), tmp() / "logs");
  ASSERT_EQ(two[0].status, 0) << all_output(two);
  ASSERT_EQ(two[1].status, 0) << all_output(two);
  const auto a = only_run_dir(tmp() / "one", "sweep"), b = only_run_dir(tmp() / "two", "sweep");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty()) << "the ranks must share one run directory";
  for (const char* f : {"sweep.csv", "config.resolved.yaml", "regula-run.txt"}) {
    EXPECT_EQ(read_file(a / f), read_file(b / f)) << f;
  }
  const auto rows = read_file(b / "sweep.csv");
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 1 + 12);  // header + 2 n x 3 seeds x 2 depths
  EXPECT_TRUE(two[1].output.empty()) << "rank 1 reports nothing: " << two[1].output;
}

// Sharded train: variants x seeds split across ranks; every deterministic file is the
// one-process run's (results.csv without its wall-clock `seconds` column).
TEST_F(DistributedCli, TwoRankTrainRunsWriteTheFilesOfOneProcess) {
  REGULA_REQUIRE_DISTRIBUTED();
  const std::string args = " --quiet train seeds=[0,1] train.steps=30 train.eval_every=10 data.n=30 data.n_val=10 "
                           "data.test_points=20 model.hidden=[8] output.derivatives=1";
  const auto one = testutil::run_command(regula_bin() + args + " --out " + (tmp() / "one").string());
  ASSERT_EQ(one.status, 0) << one.output;
  const auto two = launch(2, regula_bin() + args + " --out " + (tmp() / "two").string(), tmp() / "logs");
  ASSERT_EQ(two[0].status, 0) << all_output(two);
  ASSERT_EQ(two[1].status, 0) << all_output(two);
  const auto a = only_run_dir(tmp() / "one", "ktv_quick"), b = only_run_dir(tmp() / "two", "ktv_quick");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  for (const char* f : {"summary.csv", "summary.md", "config.resolved.yaml", "input.yaml", "input_overrides.txt"}) {
    EXPECT_EQ(read_file(a / f), read_file(b / f)) << f;
  }
  EXPECT_EQ(drop_column(read_file(a / "results.csv"), "seconds"), drop_column(read_file(b / "results.csv"), "seconds"));
  for (const char* run : {"none/seed0", "none/seed1", "ktv_k2/seed0", "ktv_k2/seed1"}) {
    for (const char* f : {"metrics.csv", "predictions.csv", "train.csv", "config.resolved.yaml"}) {
      EXPECT_EQ(read_file(a / run / f), read_file(b / run / f)) << run << "/" << f;
      EXPECT_FALSE(read_file(b / run / f).empty()) << run << "/" << f;
    }
  }
}

TEST_F(DistributedCli, DataParallelRanksStayIdenticalAndMatchOneProcess) {
  REGULA_REQUIRE_DISTRIBUTED();
  const std::string worker = ::testing::internal::GetArgvs()[0];  // main() below runs the worker
  // With a penalty that draws random numbers (each rank its own): the ranks stay identical.
  auto runs = launch(2, "env REGULA_TEST_OUT=" + (tmp() / "noisy").string() + " REGULA_TEST_NOISY=1 " + worker,
                     tmp() / "logs_noisy");
  ASSERT_EQ(runs[0].status, 0) << all_output(runs);
  ASSERT_EQ(runs[1].status, 0) << all_output(runs);
  std::vector<torch::Tensor> p0, p1;
  torch::load(p0, (tmp() / "noisy" / "rank0.pt").string());
  torch::load(p1, (tmp() / "noisy" / "rank1.pt").string());
  ASSERT_EQ(p0.size(), p1.size());
  for (std::size_t i = 0; i < p0.size(); ++i) EXPECT_TRUE(torch::equal(p0[i], p1[i])) << "parameter " << i;

  // Without it: the same as one process with the same global batch, within float tolerance.
  runs = launch(2, "env REGULA_TEST_OUT=" + (tmp() / "plain").string() + " " + worker, tmp() / "logs_plain");
  ASSERT_EQ(runs[0].status, 0) << all_output(runs);
  ASSERT_EQ(runs[1].status, 0) << all_output(runs);
  train_small(nullptr, false, tmp() / "one");
  std::vector<torch::Tensor> one, two;
  torch::load(one, (tmp() / "one" / "rank0.pt").string());
  torch::load(two, (tmp() / "plain" / "rank1.pt").string());
  ASSERT_EQ(one.size(), two.size());
  double moved = 0;
  for (std::size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(torch::allclose(one[i], two[i], 1e-4, 1e-5)) << "parameter " << i << ": max diff "
                                                             << (one[i] - two[i]).abs().max().item<double>();
    moved += (one[i] - p0[i]).abs().max().item<double>();
  }
  EXPECT_GT(moved, 0) << "the two configurations must train differently, or the comparison is empty";
}

// A data-parallel `regula train` checkpoints on rank 0 and resumes on both ranks to the
// uninterrupted run's metrics.
TEST_F(DistributedCli, DataParallelTrainResumesToTheUninterruptedRun) {
  REGULA_REQUIRE_DISTRIBUTED();
  const std::string args = " --quiet train variants=[none] parallel=data regularizer.kind=ktv regularizer.order=2 "
                           "regularizer.weight=1e-4 regularizer.samples=8 train.batch_size=16 train.eval_every=10 "
                           "train.checkpoint_every=10 data.n=32 data.n_val=10 data.test_points=20 model.hidden=[8] "
                           "output.derivatives=1";
  auto full = launch(2, regula_bin() + args + " train.steps=40 --out " + (tmp() / "full").string(), tmp() / "l1");
  ASSERT_EQ(full[0].status, 0) << all_output(full);
  auto part = launch(2, regula_bin() + args + " train.steps=20 --out " + (tmp() / "part").string(), tmp() / "l2");
  ASSERT_EQ(part[0].status, 0) << all_output(part);
  const auto a = only_run_dir(tmp() / "full", "ktv_quick"), b = only_run_dir(tmp() / "part", "ktv_quick");
  ASSERT_FALSE(b.empty());
  auto resumed = launch(2, regula_bin() + " --quiet train --resume " + b.string() + " train.steps=40", tmp() / "l3");
  ASSERT_EQ(resumed[0].status, 0) << all_output(resumed);
  ASSERT_EQ(resumed[1].status, 0) << all_output(resumed);
  EXPECT_EQ(read_file(a / "metrics.csv"), read_file(b / "metrics.csv"));
  EXPECT_EQ(drop_column(read_file(a / "results.csv"), "seconds"), drop_column(read_file(b / "results.csv"), "seconds"));
}

// A rank killed mid-run: the other stops within its timeout with one line, not a hang.
TEST_F(DistributedCli, AKilledRankStopsTheOtherWithOneLine) {
  REGULA_REQUIRE_DISTRIBUTED();
  const auto logs = tmp() / "logs";
  fs::create_directories(logs);
  const int port = free_port();
  const std::string cmd = regula_bin() + " train parallel=data variants=[none] train.steps=1000000 train.eval_every=10 "
                          "data.n=32 model.hidden=[8] --out " + (tmp() / "runs").string();
  const std::string env = " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) +
                          " REGULA_DIST_TIMEOUT_S=60 ";
  const auto start = std::chrono::steady_clock::now();
  // Rank 1 runs until its run directory has metrics, then is killed with SIGKILL.
  const std::string script =
      "(RANK=0" + env + "timeout -s KILL 300 " + cmd + " >" + (logs / "rank0.log").string() + " 2>&1; echo $? >" + (logs / "rank0.rc").string() +
      ") & (RANK=1" + env + "exec " + cmd + " >" + (logs / "rank1.log").string() + " 2>&1) & pid1=$!; "
      "for i in $(seq 600); do ls " + (tmp() / "runs").string() + "/ktv_quick/*/metrics.csv >/dev/null 2>&1 && break; "
      "sleep 0.5; done; sleep 1; kill -KILL $pid1; wait";
  testutil::run_command(script);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto out = read_file(logs / "rank0.log");
  const auto rc = read_file(logs / "rank0.rc");
  ASSERT_FALSE(rc.empty());
  EXPECT_EQ(std::stoi(rc), 4) << out;
  EXPECT_LT(secs, 250) << "rank 0 must stop on its own, not by the test's kill";
  int error_lines = 0;
  std::stringstream ss(out);
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("error:", 0) == 0) {
      ++error_lines;
      EXPECT_NE(line.find("[rank 0/2]"), std::string::npos) << line;
      EXPECT_NE(line.find("--resume"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(error_lines, 1) << out;
}

namespace {

// Draws random numbers every step (like k-TV's points): each rank its own.
class NoisyL2 : public regularizers::Regularizer {
 public:
  std::string name() const override { return "noisy_l2"; }
  torch::Tensor penalty(const models::Model& model) override {
    torch::Tensor total = torch::zeros({}, models::parameter_options(model));
    for (const auto& p : model.module->parameters()) total = total + (p.pow(2) * torch::rand_like(p)).sum();
    return 1e-3 * total;
  }
};

trainers::TrainResult train_small(const core::DistributedContext* dist, bool noisy, const fs::path& out) {
  core::seed_everything(3);
  const auto data = trainers::make_synthetic(trainers::SyntheticOptions("cubic").n(48).noise(0.05).n_val(8).test_points(16).seed(1));
  auto model = models::as_model(models::MLP(models::MLPOptions({1, 16, 16, 1}).activation("tanh")));
  model.module->to(torch::kFloat64);
  std::vector<std::shared_ptr<regularizers::Regularizer>> regs;
  if (noisy) regs.push_back(std::make_shared<NoisyL2>());
  trainers::MinibatchOptions o;
  o.steps(60).batch_size(15).eval_every(20).shuffle_seed(5).distributed(dist);
  o.optimizer(trainers::OptimizerOptions().kind("adam").lr(1e-2));
  trainers::MinibatchTrainer trainer(model, regs, o);
  const auto result = trainer.fit(data);
  std::vector<torch::Tensor> params;
  for (const auto& p : model.module->parameters()) params.push_back(p.detach().clone());
  fs::create_directories(out);
  torch::save(params, (out / fmt::format("rank{}.pt", dist ? dist->rank() : 0)).string());
  return result;
}

}  // namespace

// The data-parallel worker of DataParallelRanksStayIdenticalAndMatchOneProcess: this binary run
// with REGULA_TEST_OUT set (and the launch environment of its rank).
int main(int argc, char** argv) {
  if (const char* out = std::getenv("REGULA_TEST_OUT")) {
    try {
      const auto& dist = core::init_distributed();
      train_small(&dist, std::getenv("REGULA_TEST_NOISY") != nullptr, out);
      core::shutdown_distributed(false);
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s%s\n", core::rank_prefix().c_str(), e.what());
      return 1;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
