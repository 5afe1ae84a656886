#pragma once
/// \file Capture a fixed-shape training step once as a CUDA graph, then
/// replay it.  The step must read its inputs from, and write its outputs to,
/// tensors whose storage stays fixed (refill them with copy_), use
/// GraphSafeSGD/GraphSafeAdam, and draw random numbers only from the default
/// CUDA generator (its state is registered with the graph, so each replay
/// draws fresh numbers).  On CPU, or when capture is off, run() simply calls
/// the step: the same code path works everywhere.
#include <functional>
#include <memory>

#include <torch/types.h>

namespace regula::trainers {

/// A step function run eagerly, or captured and replayed on CUDA.
class CapturedStep {
 public:
  /// `warmup` eager runs (on a side stream) precede the capture, so that
  /// cuBLAS handles and the caching allocator are set up.
  CapturedStep(std::function<void()> step, torch::Device device, bool capture = true, int warmup = 3);
  ~CapturedStep();
  /// Runs one step: eagerly until captured, then by graph replay.
  void run();
  /// Whether the step is being replayed from a CUDA graph.
  bool captured() const;
  /// Whether this build can capture CUDA graphs at all.
  static bool supported();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace regula::trainers
