// The fuzz targets (tests/fuzz/targets.h) on the kept corpus and on seeded
// mutations of it: every reader must read the input or refuse it with a
// regula::Error; another exception or a crash fails here.  A longer,
// coverage-guided run: -DREGULA_BUILD_FUZZERS=ON with clang (README, "Fuzzing").
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>

#include "core/checkpoint.h"
#include "tests/fuzz/targets.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using regula::testutil::RegulaTest;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Bit flips, cuts, inserted and deleted bytes, repeated chunks: what a broken file or disk does.
std::string mutate(std::string s, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n); };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 6) {
      case 0: if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << (rng() % 8)); break;
      case 1: s.resize(pick(s.size() + 1)); break;
      case 2: s.insert(pick(s.size() + 1), 1, static_cast<char>(rng() % 256)); break;
      case 3: if (!s.empty()) s.erase(pick(s.size()), 1); break;
      case 4: if (!s.empty()) { const auto at = pick(s.size()); s.insert(at, s.substr(at, 1 + pick(64))); } break;
      default: if (!s.empty()) s[pick(s.size())] = static_cast<char>("0-9,.e\n:[]{}'\"\xff"[rng() % 16]); break;
    }
  }
  return s;
}

}  // namespace

class FuzzCorpus : public RegulaTest {};

TEST_F(FuzzCorpus, EveryReaderReadsOrRefusesClearly) {
  const fs::path corpus = fs::path(REGULA_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  std::mt19937_64 rng(20261201);
  int inputs = 0;
  for (const auto& target : regula::fuzz::targets()) {
    std::vector<std::string> seeds;
    for (const auto& e : fs::directory_iterator(corpus / target.name)) seeds.push_back(slurp(e.path()));
    if (std::string(target.name) == "checkpoint") {  // and one written by this build
      torch::nn::Linear lin(3, 2);
      regula::core::CheckpointWriter().module("m", *lin).integer("step", 3).text("signature", "a=1").commit(tmp() / "c.pt");
      seeds.push_back(slurp(tmp() / "c.pt"));
    }
    ASSERT_FALSE(seeds.empty()) << target.name;
    for (const auto& seed : seeds) {
      for (int k = 0; k <= 600; ++k) {
        const auto input = k == 0 ? seed : mutate(seed, rng);
        try {
          target.run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
        } catch (const std::exception& e) {
          ADD_FAILURE() << target.name << ": mutation " << k << " of a " << seed.size()
                        << "-byte seed escaped with an unclear error: " << e.what();
        }
        ++inputs;
      }
    }
  }
  EXPECT_GT(inputs, 6000);
}
