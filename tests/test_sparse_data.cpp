// Sparse-regression data: the synthetic generator, X/y/w* from CSV and .npy,
// the MNIST IDX reader (raw, gzip, truncated, foreign) and the built-in digit.
#include <fstream>

#include <gtest/gtest.h>
#include <zlib.h>

#include "core/errors.h"
#include "core/mnist.h"
#include "trainers/sparse/problem.h"
#include "core/tabular.h"
#include "tests/test_util.h"

using namespace regula;
using regula::testutil::RegulaTest;

class SparseData : public RegulaTest {
 protected:
  /// IDX image bytes: magic, count, rows, cols, pixels (value = index % 256).
  static std::string idx_bytes(uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols, std::size_t pixels) {
    std::string s;
    for (uint32_t v : {magic, count, rows, cols})
      for (int b = 3; b >= 0; --b) s.push_back(char((v >> (8 * b)) & 0xff));
    for (std::size_t i = 0; i < pixels; ++i) s.push_back(char(i % 256));
    return s;
  }
  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    const auto p = tmp() / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  std::filesystem::path write_gz(const std::string& name, const std::string& bytes) {
    const auto p = tmp() / name;
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return p;
  }
};

TEST_F(SparseData, SyntheticProblemHasTheRequestedStructure) {
  const auto p = sparse::make_synthetic(
      sparse::SyntheticOptions(50, 30, 4).support_values({1, 2}).sigma(0.0).n_val(10).seed(3));
  EXPECT_EQ(p.X.sizes(), (std::vector<int64_t>{50, 30}));
  EXPECT_EQ(p.X_val.sizes(), (std::vector<int64_t>{10, 30}));
  EXPECT_TRUE(torch::equal(p.support(), torch::arange(4)));
  EXPECT_TRUE(torch::equal(p.w_star.slice(0, 0, 4), torch::tensor({1.0, 2.0, 1.0, 2.0}, torch::kDouble)));
  EXPECT_TRUE(p.X.abs().eq(1).all().item<bool>());  // Rademacher
  EXPECT_TRUE(torch::allclose(p.y, p.X.mv(p.w_star)));  // sigma = 0
  const auto q = sparse::make_synthetic(sparse::SyntheticOptions(50, 30, 4).support_values({1, 2}).sigma(0.0).n_val(10).seed(3));
  EXPECT_TRUE(torch::equal(p.X, q.X));  // same seed, same data, whatever the global RNG did
  const auto r = sparse::make_synthetic(sparse::SyntheticOptions(50, 30, 4).seed(4).design(sparse::DesignOptions().kind("gaussian")));
  EXPECT_FALSE(r.X.abs().eq(1).all().item<bool>());
  EXPECT_NEAR((r.y - r.X.mv(r.w_star)).std().item<double>(), 0.5, 0.2);
  EXPECT_THROW(sparse::make_synthetic(sparse::SyntheticOptions(10, 5, 6)), ConfigError);
  EXPECT_THROW(sparse::make_synthetic(sparse::SyntheticOptions(10, 5, 2).design(sparse::DesignOptions().kind("uniform"))), ConfigError);
}

TEST_F(SparseData, LoadsXyAndTruthFromCsvAndNpy) {
  const auto X = torch::randn({10, 3}, torch::kDouble);
  const auto w = torch::tensor({1.0, 0.0, -2.0}, torch::kDouble);
  core::write_npy(tmp() / "X.npy", X);
  core::write_npy(tmp() / "w.npy", w);
  std::string csv = "y\n";
  const auto y = X.mv(w);
  for (int i = 0; i < 10; ++i) csv += std::to_string(y[i].item<double>()) + "\n";
  write("y.csv", csv);
  const auto p = sparse::load_problem(tmp() / "X.npy", tmp() / "y.csv", tmp() / "w.npy", 0.2, 0);
  EXPECT_EQ(p.n(), 8);
  EXPECT_EQ(p.n_val(), 2);
  EXPECT_TRUE(torch::allclose(p.y, p.X.mv(w), 1e-5));  // rows stay paired after the shuffle
  EXPECT_TRUE(torch::allclose(p.y_val, p.X_val.mv(w), 1e-5));
  EXPECT_TRUE(torch::equal(p.w_star, w));
  write("short.csv", "1\n2\n");
  EXPECT_THROW(sparse::load_problem(tmp() / "X.npy", tmp() / "short.csv", "", 0.0, 0), DataError);
  core::write_npy(tmp() / "w4.npy", torch::ones({4}, torch::kDouble));
  EXPECT_THROW(sparse::load_problem(tmp() / "X.npy", tmp() / "y.csv", tmp() / "w4.npy", 0.0, 0), DataError);
  EXPECT_THROW(sparse::load_problem(tmp() / "nope.npy", tmp() / "y.csv", "", 0.0, 0), DataError);
}

TEST_F(SparseData, ReadsIdxImagesRawAndGzipped) {
  const auto bytes = idx_bytes(0x803, 3, 4, 5, 60);
  for (const auto& path : {write("imgs-idx3-ubyte", bytes), write_gz("imgs-idx3-ubyte.gz", bytes)}) {
    const auto imgs = core::read_idx_images(path);
    ASSERT_EQ(imgs.sizes(), (std::vector<int64_t>{3, 4, 5}));
    EXPECT_DOUBLE_EQ(imgs[2][3][4].item<double>(), 59.0 / 255.0);
    EXPECT_EQ(core::read_idx_images(path, 2).size(0), 2);  // any number of images
  }
}

TEST_F(SparseData, IdxErrorsAreHonest) {
  auto expect_error = [](const std::filesystem::path& p, const std::string& needle) {
    try {
      core::read_idx_images(p);
      FAIL() << "no error for " << p;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const auto bytes = idx_bytes(0x803, 3, 4, 5, 60);
  expect_error(write("trunc", bytes.substr(0, bytes.size() - 7)), "truncated");
  expect_error(write_gz("trunc.gz", bytes.substr(0, 30)), "truncated");
  expect_error(write("labels", idx_bytes(0x801, 3, 0, 0, 0)), "label file");
  expect_error(write("foreign.txt", "hello, this is not an IDX file at all"), "not an IDX image file");
  expect_error(write("tiny", "ab"), "truncated");
  // A header promising 60000 images of 4096x4096 (a terabyte) in a 26-byte file: refused at
  // the end of its data, not after trying to allocate what the header says.
  expect_error(write("liar", idx_bytes(0x803, 60000, 4096, 4096, 10)), "image 1 of the 60000");
  expect_error(tmp() / "missing", "does not exist");
  std::string corrupt = std::string("\x1f\x8b\x08\x00", 4) + std::string(40, '\x55');
  EXPECT_THROW(core::read_idx_images(write("corrupt.gz", corrupt)), DataError);
}

TEST_F(SparseData, FindsMnistFilesAndDrawsItsOwnDigit) {
  EXPECT_THROW(core::find_mnist_images(tmp()), DataError);
  write_gz("t10k-images-idx3-ubyte.gz", idx_bytes(0x803, 1, 28, 28, 784));
  EXPECT_EQ(core::find_mnist_images(tmp()).filename(), "t10k-images-idx3-ubyte.gz");
  const auto digit = core::builtin_digit();
  EXPECT_EQ(digit.sizes(), (std::vector<int64_t>{28, 28}));
  EXPECT_GE(digit.min().item<double>(), 0.0);
  EXPECT_LE(digit.max().item<double>(), 1.0);
  const double nonzero = digit.gt(0).to(torch::kDouble).mean().item<double>();
  EXPECT_GT(nonzero, 0.08);
  EXPECT_LT(nonzero, 0.35);
}
