#include "tests/fuzz/targets.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/mnist.h"
#include "core/tabular.h"

namespace fs = std::filesystem;

namespace regula::fuzz {
namespace {

// The readers take paths: the bytes go to one temporary file per process.
fs::path as_file(const uint8_t* data, std::size_t size, const std::string& ext) {
  const auto path = fs::temp_directory_path() / ("regula_fuzz_" + std::to_string(::getpid()) + ext);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                static_cast<std::streamsize>(size));
  return path;
}

template <class F>
void expect_clear(F&& read) {
  try {
    read();
  } catch (const Error&) {
    // the one accepted failure: a clear message
  }
}

}  // namespace

void yaml_config(const uint8_t* data, std::size_t size) {
  expect_clear([&] {
    auto config = core::Config::from_string(std::string(reinterpret_cast<const char*>(data), size), "<fuzz>");
    auto root = config.root();
    root.get<std::string>("name", "x");
    root.get<int64_t>("seed", 0);
    root.get<std::vector<int64_t>>("seeds", {0});
    auto model = root.section("model");
    model.get<std::vector<int64_t>>("depths", {2});
    model.get<double>(model.one_of({"w0", "alpha"}), 1e-3);
    root.section("train").get<std::vector<double>>("lr", {0.1});
    config.resolved_yaml();
    config.finish();
  });
}

void npy(const uint8_t* data, std::size_t size) {
  const auto path = as_file(data, size, ".npy");
  expect_clear([&] { core::read_npy(path); });
}

void csv(const uint8_t* data, std::size_t size) {
  const auto path = as_file(data, size, ".csv");
  expect_clear([&] { core::read_csv(path); });
}

void idx(const uint8_t* data, std::size_t size) {
  const auto path = as_file(data, size, ".idx");
  expect_clear([&] { core::read_idx_images(path, 64); });
  expect_clear([&] { core::read_idx_labels(path); });
}

void mnist_csv(const uint8_t* data, std::size_t size) {
  const auto path = as_file(data, size, ".mnist.csv");
  expect_clear([&] { core::read_mnist_csv(path); });
}

void checkpoint(const uint8_t* data, std::size_t size) {
  const auto path = as_file(data, size, ".pt");
  expect_clear([&] {
    core::CheckpointReader r(path);
    r.integer("step");
    r.tensor("state");
    r.text("signature");
  });
}

const std::vector<NamedTarget>& targets() {
  static const std::vector<NamedTarget> all{{"yaml", yaml_config}, {"npy", npy},           {"csv", csv},
                                            {"idx", idx},          {"mnist_csv", mnist_csv}, {"checkpoint", checkpoint}};
  return all;
}

}  // namespace regula::fuzz
