#include "core/device.h"

#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <ATen/Parallel.h>

#include "core/errors.h"

namespace regula::core {

bool cuda_available() { return torch::cuda::is_available(); }

bool cpu_has_avx2_fma() {
  static const bool has = [] {
    __builtin_cpu_init();  // safe before libgcc's own initialisation (static initialisers)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
}

bool cpu_has_avx512() {
  static const bool has = [] {
    __builtin_cpu_init();  // safe before libgcc's own initialisation (static initialisers)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && cpu_has_avx2_fma();
  }();
  return has;
}

torch::Device resolve_device(const std::string& spec) {
  if (spec == "auto") return cuda_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 5) {
      try {
        std::size_t used = 0;
        index = std::stoi(spec.substr(5), &used);
        if (used != spec.size() - 5 || index < 0) throw std::invalid_argument(spec);
      } catch (const std::exception&) {
        throw DeviceError(fmt::format("device '{}' is not valid: use auto, cpu, cuda or cuda:N", spec));
      }
    }
    if (!cuda_available()) {
      throw DeviceError(fmt::format(
          "device '{}' requested but no CUDA device is available on this machine: use device=cpu or device=auto",
          spec));
    }
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (index >= count) {
      throw DeviceError(fmt::format("device '{}' requested but only {} CUDA device(s) exist: use cuda:0..cuda:{}",
                                    spec, count, count - 1));
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw DeviceError(fmt::format("device '{}' is not valid: use auto, cpu, cuda or cuda:N", spec));
}

std::string describe_device(const torch::Device& device) {
  if (device.is_cuda()) return fmt::format("{} (CUDA)", device.str());
  return fmt::format("cpu ({} threads)", at::get_num_threads());
}

void seed_everything(uint64_t seed) { torch::manual_seed(seed); }

}  // namespace regula::core
