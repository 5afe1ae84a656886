#pragma once
/// \file Fuzz targets, one per reader of users' input: each feeds arbitrary bytes to a
/// reader and accepts one outcome besides success, a regula::Error (a clear message).
/// Anything else (a crash, a LibTorch or std exception, a hang) is a bug.  The same
/// functions run under libFuzzer (tests/fuzz/libfuzzer_main.cpp, -DREGULA_BUILD_FUZZERS=ON
/// with clang) and, on a kept corpus with seeded mutations, in the unit suite
/// (tests/test_fuzz_corpus.cpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace regula::fuzz {

/// A target: returns normally for success or a regula::Error; lets anything else escape.
using Target = void (*)(const uint8_t* data, std::size_t size);

void yaml_config(const uint8_t* data, std::size_t size);
void npy(const uint8_t* data, std::size_t size);
void csv(const uint8_t* data, std::size_t size);
void idx(const uint8_t* data, std::size_t size);
void mnist_csv(const uint8_t* data, std::size_t size);
void checkpoint(const uint8_t* data, std::size_t size);

struct NamedTarget {
  const char* name;  ///< also the corpus folder, tests/fuzz/corpus/<name>/
  Target run;
};
const std::vector<NamedTarget>& targets();

}  // namespace regula::fuzz
