#pragma once
/// \file `regula sweep`: a grid N x w0 (or alpha) x lr x seed x n of
/// diagonal-network GD runs advanced as ONE batched computation (problems
/// stacked with zero padding, parameter sets along a second batch axis); one
/// sweep.csv row per run, support recovery at the best iterate, window maps.
#include <filesystem>
#include <string>

#include "core/run.h"

namespace regula::sparse {

/// The embedded defaults of `regula sweep` (the recovery phase transition in n/k).
extern const char* const kSweepDefaults;

/// Runs `regula sweep` for `request`; returns the run directory.
std::filesystem::path run_sweep(const core::RunRequest& request, const std::string& embedded_defaults = kSweepDefaults,
                                const std::string& command = "sweep");

}  // namespace regula::sparse
