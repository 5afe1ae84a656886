#pragma once
/// \file The sparse half of `regula demo`: experiment 2 (window vs depth) and
/// experiment 6 (a real MNIST digit; the built-in digit when none is
/// installed) in short versions on embedded defaults.
#include <vector>

#include "core/run.h"
#include "trainers/sparse/recover.h"

namespace regula::sparse {

/// The demo's configs (the README's table comes from the first).
extern const char* const kDemoWindow;
extern const char* const kDemoDigit;

/// Runs both; overrides in `request` apply to both.
std::vector<RecoverReport> run_demo(const core::RunRequest& request);

}  // namespace regula::sparse
