#pragma once
// Shared test helpers: a seeding fixture, temporary folders, CUDA skips, and
// running the regula binary.
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <torch/types.h>

#include "core/device.h"

namespace regula::testutil {

/// Seeds every RNG before each test; gives each test a fresh temp folder.
class RegulaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::seed_everything(0);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    tmp_ = std::filesystem::temp_directory_path() /
           (std::string("regula_test_") + info->test_suite_name() + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(tmp_);
    std::filesystem::create_directories(tmp_);
  }
  void TearDown() override { std::filesystem::remove_all(tmp_); }
  const std::filesystem::path& tmp() const { return tmp_; }

 private:
  std::filesystem::path tmp_;
};

/// Output and exit status of a shell command.
struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& cmd) {
  CommandResult result;
  std::FILE* pipe = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) result.output += buf;
  const int raw = ::pclose(pipe);
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return result;
}

/// Path of the built regula binary.
inline std::string regula_bin() { return REGULA_BIN; }

}  // namespace regula::testutil

/// Skips the current test when no CUDA device is present.
#define REGULA_REQUIRE_CUDA() \
  if (!::regula::core::cuda_available()) GTEST_SKIP() << "no CUDA device on this machine"
