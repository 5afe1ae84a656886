#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include "core/checkpoint.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/image.h"
#include "core/logging.h"
#include "core/plot.h"
#include "core/run_dir.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using namespace regula;
using regula::testutil::RegulaTest;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

// One fmt: the version compiled in is Debian's, and it links (fmt::format
// runs in a translation unit that also includes LibTorch headers).
TEST(Fmt, OneFmtIsUsedAndLinks) {
  EXPECT_EQ(FMT_VERSION, REGULA_EXPECTED_FMT_VERSION);
  EXPECT_EQ(fmt::format("{:.2f}|{}", 3.14159, torch::Device(torch::kCPU).str()), "3.14|cpu");
}

TEST(Device, ResolvesCpuAndAuto) {
  EXPECT_TRUE(core::resolve_device("cpu").is_cpu());
  EXPECT_EQ(core::resolve_device("auto").is_cuda(), core::cuda_available());
}

TEST(Device, CudaWithoutGpuIsAClearError) {
  if (core::cuda_available()) GTEST_SKIP() << "this machine has CUDA";
  try {
    core::resolve_device("cuda");
    FAIL() << "expected a DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("device=cpu"), std::string::npos) << e.what();
  }
}

TEST(Device, InvalidSpec) {
  EXPECT_THROW(core::resolve_device("tpu"), DeviceError);
  EXPECT_THROW(core::resolve_device("cuda:x"), DeviceError);
  EXPECT_THROW(core::resolve_device("cuda:-1"), DeviceError);
}

TEST(Seed, SameSeedSameNumbers) {
  core::seed_everything(42);
  const auto a = torch::randn({5});
  core::seed_everything(42);
  const auto b = torch::randn({5});
  core::seed_everything(43);
  const auto c = torch::randn({5});
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
}

class RunDirTest : public RegulaTest {};

TEST_F(RunDirTest, CreatesLayoutAndUniqueNames) {
  const auto a = core::RunDir::create(tmp(), "exp", "recover");
  const auto b = core::RunDir::create(tmp(), "exp", "recover");
  EXPECT_NE(a.path(), b.path());
  EXPECT_TRUE(fs::is_directory(a.checkpoints()));
  EXPECT_TRUE(fs::is_directory(a.plots()));
  EXPECT_EQ(a.path().parent_path(), tmp() / "exp");
  a.write_config("x: 1\n");
  EXPECT_EQ(slurp(a.file("config.resolved.yaml")), "x: 1\n");
  EXPECT_NO_THROW(core::RunDir::open(a.path(), "recover"));
  EXPECT_THROW(core::RunDir::open(tmp(), "recover"), Error);
  // Another command's run: one line that says which command continues it.
  try {
    core::RunDir::open(a.path(), "train");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a run of `regula recover`, not `regula train`: continue it with "
                                         "`regula recover --resume"), std::string::npos) << e.what();
  }
  // Killed before its config was written; killed inside an atomic write.
  try {
    core::RunDir::open(b.path(), "recover");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("interrupted before it wrote its config"), std::string::npos) << e.what();
  }
  std::ofstream(a.checkpoints() / "batched_gd.pt.tmp") << "half";
  std::ofstream(a.file("summary.csv.tmp")) << "half";
  core::RunDir::open(a.path(), "recover");
  EXPECT_FALSE(fs::exists(a.checkpoints() / "batched_gd.pt.tmp"));
  EXPECT_FALSE(fs::exists(a.file("summary.csv.tmp")));
}

TEST_F(RunDirTest, CsvIsFlushedRowByRow) {
  core::CsvWriter csv(tmp() / "m.csv", {"step", "loss"});
  csv.row({{"step", 1}, {"loss", 0.5}});
  // Readable before the writer is closed: a crash keeps what was logged.
  EXPECT_EQ(slurp(tmp() / "m.csv"), "step,loss\n1,0.5\n");
  csv.row({{"step", 2}});
  EXPECT_EQ(slurp(tmp() / "m.csv"), "step,loss\n1,0.5\n2,\n");
  EXPECT_THROW(csv.row({{"nope", 1}}), Error);
  EXPECT_THROW(csv.row_cells({"1"}), Error);
}

TEST_F(RunDirTest, AFailedWriteIsAnErrorNotASilentlyShortFile) {
  // /dev/full fails every write with ENOSPC, as a full disk does.
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this machine";
  try {
    core::CsvWriter csv("/dev/full", {"step", "loss"});
    FAIL() << "writing to a full device was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
  }
  // Atomic writes leave the old file as it was and no temporary behind.
  std::ofstream(tmp() / "keep.txt") << "old";
  EXPECT_NO_THROW(core::write_file_atomically(tmp() / "keep.txt", "new"));
  EXPECT_EQ(slurp(tmp() / "keep.txt"), "new");
  EXPECT_FALSE(fs::exists(tmp() / "keep.txt.tmp"));
}

class CheckpointTest : public RegulaTest {};

TEST_F(CheckpointTest, RoundTripsModelOptimizerScalarsAndRng) {
  torch::nn::Linear model(3, 2);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-2));
  for (int i = 0; i < 3; ++i) {
    opt.zero_grad();
    model->forward(torch::randn({4, 3})).pow(2).sum().backward();
    opt.step();
  }
  const fs::path file = tmp() / "ckpt" / "step_3.pt";
  core::CheckpointWriter().module("model", *model).optimizer("opt", opt).integer("step", 3).real("best", 0.25)
      .text("note", "hi").tensor("w", torch::arange(4)).rng_state().commit(file);
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  const auto expected_next = torch::randn({3});  // drawn after the RNG state was saved

  torch::nn::Linear other(3, 2);
  torch::optim::Adam other_opt(other->parameters(), torch::optim::AdamOptions(1e-2));
  core::CheckpointReader reader(file);
  reader.module("model", *other);
  reader.optimizer("opt", other_opt);
  EXPECT_TRUE(torch::equal(other->weight, model->weight));
  EXPECT_EQ(reader.integer("step"), 3);
  EXPECT_DOUBLE_EQ(reader.real("best"), 0.25);
  EXPECT_EQ(reader.text("note"), "hi");
  EXPECT_TRUE(torch::equal(reader.tensor("w"), torch::arange(4)));
  EXPECT_TRUE(reader.has("model"));
  EXPECT_FALSE(reader.has("missing"));
  reader.restore_rng_state();
  EXPECT_TRUE(torch::equal(torch::randn({3}), expected_next));

  // The restored optimizer continues exactly like the original.
  const auto x = torch::randn({4, 3});
  for (auto* pair : {&opt, &other_opt}) {
    pair->zero_grad();
    (pair == &opt ? model : other)->forward(x).pow(2).sum().backward();
    pair->step();
  }
  EXPECT_TRUE(torch::allclose(other->weight, model->weight, 0, 0));
  EXPECT_EQ(core::latest_checkpoint(tmp() / "ckpt"), file);
}

TEST_F(CheckpointTest, TruncatedFileIsRejectedClearly) {
  torch::nn::Linear model(30, 20);
  const fs::path file = tmp() / "full.pt";
  core::CheckpointWriter().module("model", *model).commit(file);
  const auto bytes = slurp(file);
  const fs::path cut = tmp() / "cut.pt";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  try {
    core::CheckpointReader reader(cut);
    FAIL() << "expected a CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST_F(CheckpointTest, AnyFlippedBitIsRefused) {
  torch::nn::Linear model(30, 20);
  const fs::path file = tmp() / "full.pt";
  core::CheckpointWriter().module("model", *model).integer("step", 7).commit(file);
  const auto bytes = slurp(file);
  ASSERT_NO_THROW(core::CheckpointReader{file});
  // One bit at a time, at 64 places spread over the whole file (tensor data, zip records, trailer).
  for (std::size_t k = 0; k < 64; ++k) {
    auto bad = bytes;
    const auto at = k * (bytes.size() - 1) / 63;
    bad[at] = static_cast<char>(bad[at] ^ (1 << (k % 8)));
    const fs::path flipped = tmp() / "flipped.pt";
    std::ofstream(flipped, std::ios::binary | std::ios::trunc) << bad;
    try {
      core::CheckpointReader reader(flipped);
      FAIL() << "a flipped bit at byte " << at << " of " << bytes.size() << " was accepted";
    } catch (const CheckpointError& e) {
      const std::string msg = e.what();
      EXPECT_TRUE(msg.find("corrupt") != std::string::npos || msg.find("truncated") != std::string::npos) << msg;
    }
  }
}

TEST_F(CheckpointTest, ForeignFilesAreRejected) {
  std::ofstream(tmp() / "text.pt") << "not a checkpoint";
  EXPECT_THROW(core::CheckpointReader(tmp() / "text.pt"), CheckpointError);
  torch::save(torch::ones({2}), (tmp() / "tensor.pt").string());  // a torch file, not ours
  try {
    core::CheckpointReader reader(tmp() / "tensor.pt");
    FAIL() << "expected a CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("not a Regula checkpoint"), std::string::npos) << e.what();
  }
  EXPECT_THROW(core::CheckpointReader(tmp() / "absent.pt"), CheckpointError);
}

TEST_F(CheckpointTest, WrongArchitectureIsRejected) {
  torch::nn::Linear small(2, 2), big(5, 5);
  core::CheckpointWriter().module("model", *small).commit(tmp() / "s.pt");
  core::CheckpointReader reader(tmp() / "s.pt");
  EXPECT_THROW(reader.module("model", *big), CheckpointError);
  EXPECT_THROW(reader.integer("step"), CheckpointError);
}

class ImageTest : public RegulaTest {};

TEST_F(ImageTest, WritesPngOfTheRightSize) {
  const auto img = torch::linspace(0, 1, 12).reshape({3, 4});
  core::write_png(tmp() / "g.png", img, /*scale=*/2);
  const auto bytes = slurp(tmp() / "g.png");
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  auto be32 = [&](std::size_t at) {
    return (uint8_t(bytes[at]) << 24) | (uint8_t(bytes[at + 1]) << 16) | (uint8_t(bytes[at + 2]) << 8) | uint8_t(bytes[at + 3]);
  };
  EXPECT_EQ(be32(16), 8u);  // width  4 * 2
  EXPECT_EQ(be32(20), 6u);  // height 3 * 2
  core::write_png(tmp() / "rgb.png", torch::rand({5, 5, 3}));
  EXPECT_THROW(core::write_png(tmp() / "bad.png", torch::rand({2, 2, 2})), Error);
}

TEST_F(ImageTest, GridPlacesImagesWithPadding) {
  const auto a = torch::zeros({2, 2}), b = torch::ones({2, 2}) * 0.5;
  const auto grid = core::image_grid({a, b, a}, /*cols=*/2, /*pad=*/1, /*pad_value=*/1.0);
  EXPECT_EQ(grid.sizes(), (torch::IntArrayRef{7, 7}));
  EXPECT_DOUBLE_EQ(grid[1][1].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(grid[1][4].item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(grid[0][0].item<double>(), 1.0);
  EXPECT_THROW(core::image_grid({a, torch::zeros({3, 3})}, 2), Error);
}

TEST(Logging, DurationsReadWell) {
  EXPECT_EQ(core::format_duration(4.25), "4.2s");
  EXPECT_EQ(core::format_duration(185), "3m05s");
  EXPECT_EQ(core::format_duration(3720), "1h02m");
}

TEST(CliInfo, InfoRunsATrainingStep) {
  const auto r = testutil::run_command(testutil::regula_bin() + " info --device cpu");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("libtorch    2.11"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(ok)"), std::string::npos) << r.output;
}

TEST(CliInfo, MissingGpuIsOneLineAndNonZero) {
  if (core::cuda_available()) GTEST_SKIP() << "this machine has CUDA";
  const auto r = testutil::run_command(testutil::regula_bin() + " info --device cuda");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_EQ(r.output.rfind("error: ", 0), 0u) << r.output;
}

class PlotTest : public RegulaTest {};

TEST_F(PlotTest, MetricsCurvesFromCsvOrOneLineWhenNoMatplotlib) {
  {
    core::CsvWriter csv(tmp() / "metrics.csv", {"step", "loss"});
    for (int s = 1; s <= 5; ++s) csv.row({{"step", s}, {"loss", 1.0 / s}});
  }
  std::filesystem::create_directories(tmp() / "plots");
  ::setenv("REGULA_PYTHON", "/nonexistent/python", 1);
  EXPECT_FALSE(core::run_plot_script("metrics.curves", tmp()));
  EXPECT_FALSE(fs::exists(tmp() / "plots" / "metrics.png"));
  ::unsetenv("REGULA_PYTHON");
  const auto probe = testutil::run_command(std::string(REGULA_DEFAULT_PYTHON_FOR_TESTS) + " -c 'import matplotlib'");
  if (probe.status != 0) GTEST_SKIP() << "no matplotlib for the build's Python";
  EXPECT_TRUE(core::run_plot_script("metrics.curves", tmp()));
  EXPECT_TRUE(fs::exists(tmp() / "plots" / "metrics.png"));
}

// No build path is compiled in: the build tree finds <build>/share/regula/plot.py (a link to
// scripts/plot.py) above the test binary, as an installed program finds <prefix>/share/regula.
TEST_F(PlotTest, ScriptFromTheEnvironmentOrAboveTheProgram) {
  ::unsetenv("REGULA_PLOT_SCRIPT");
  const fs::path found = core::plot_script();
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.parent_path().parent_path().filename(), "share") << found;
  EXPECT_TRUE(fs::equivalent(found, fs::path(REGULA_SOURCE_DIR) / "scripts" / "plot.py")) << found;
  ::setenv("REGULA_PLOT_SCRIPT", "/elsewhere/plot.py", 1);
  EXPECT_EQ(core::plot_script(), fs::path("/elsewhere/plot.py"));
  EXPECT_FALSE(core::run_plot_script("metrics.curves", tmp()));  // a missing script: one line, no throw
  ::unsetenv("REGULA_PLOT_SCRIPT");
}
