// libFuzzer entry point of one target, chosen at compile time with
// -DREGULA_FUZZ_TARGET=<name> (tests/fuzz/CMakeLists.txt builds fuzz_<name>).
#include <cstring>
#include <cstdlib>

#include "tests/fuzz/targets.h"

#define REGULA_STR2(x) #x
#define REGULA_STR(x) REGULA_STR2(x)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const regula::fuzz::Target target = [] {
    for (const auto& t : regula::fuzz::targets()) {
      if (std::strcmp(t.name, REGULA_STR(REGULA_FUZZ_TARGET)) == 0) return t.run;
    }
    std::abort();
  }();
  target(data, size);
  return 0;
}
