#pragma once
/// \file Device choice and seeding.
#include <cstdint>
#include <string>

#include <torch/types.h>

namespace regula::core {

/// Resolves `auto | cpu | cuda | cuda:N`.  `auto` is CUDA when present, else
/// CPU.  Asking for CUDA on a machine without it is a DeviceError.
torch::Device resolve_device(const std::string& spec);

/// Whether a CUDA device is usable by this process.
bool cuda_available();

/// One line naming the device, e.g. "cuda:0 (NVIDIA H200)" or "cpu (2 threads)".
std::string describe_device(const torch::Device& device);

/// Whether this CPU has AVX2 and FMA (the vector kernels compiled with -mavx2 -mfma run only then).
bool cpu_has_avx2_fma();

/// Whether this CPU and the OS run AVX-512 F, BW, VL and DQ with FMA (the kernels compiled with
/// -mavx512* run only then).
bool cpu_has_avx512();

/// Seeds every RNG Regula uses (LibTorch CPU and all CUDA generators).
void seed_everything(uint64_t seed);

}  // namespace regula::core
