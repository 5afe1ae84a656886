// Built with `torch` linked before regula::regula (CMakeLists.txt): a Regula header and fmt
// still compile against the fmt Regula was built with, not LibTorch's bundled copy;
// core/logging.h's static_assert stops the build otherwise.
#include <torch/types.h>

#include "core/logging.h"

int main() {
  fmt::print("fmt: {} (torch first), sum {}\n", FMT_VERSION, torch::ones({3}).sum().item<float>());
  return 0;
}
