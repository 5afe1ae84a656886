#include "trainers/cuda_graph.h"

#if REGULA_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace regula::trainers {

struct CapturedStep::Impl {
  Impl(std::function<void()> step_fn, torch::Device dev, bool capture_on, int warmup_runs)
      : step(std::move(step_fn)), device(dev), capture(capture_on), warmup(warmup_runs) {}
  std::function<void()> step;
  torch::Device device;
  bool capture;
  int warmup;
  int runs = 0;
#if REGULA_WITH_CUDA
  std::unique_ptr<at::cuda::CUDAGraph> graph;
#endif
};

CapturedStep::CapturedStep(std::function<void()> step, torch::Device device, bool capture, int warmup)
    : impl_(std::make_unique<Impl>(std::move(step), device, capture && device.is_cuda() && supported(), warmup)) {}

CapturedStep::~CapturedStep() = default;

bool CapturedStep::supported() { return REGULA_WITH_CUDA != 0; }

bool CapturedStep::captured() const {
#if REGULA_WITH_CUDA
  return impl_->graph != nullptr;
#else
  return false;
#endif
}

void CapturedStep::run() {
#if REGULA_WITH_CUDA
  if (impl_->capture) {
    if (impl_->graph) {
      impl_->graph->replay();
      return;
    }
    const c10::cuda::CUDAGuard device_guard(impl_->device.index());
    auto side = c10::cuda::getStreamFromPool(false, impl_->device.index());
    // Warm-up and capture happen once: plain synchronisation is fine here.
    c10::cuda::getCurrentCUDAStream(impl_->device.index()).synchronize();
    {
      const c10::cuda::CUDAStreamGuard stream_guard(side);
      if (impl_->runs < impl_->warmup) {
        impl_->step();
        ++impl_->runs;
      } else {
        auto graph = std::make_unique<at::cuda::CUDAGraph>();
        graph->capture_begin();
        impl_->step();
        graph->capture_end();
        impl_->graph = std::move(graph);
      }
    }
    side.synchronize();
    // The captured pass only recorded kernels: run the step for real.
    if (impl_->graph) impl_->graph->replay();
    return;
  }
#endif
  impl_->step();
  ++impl_->runs;
}

}  // namespace regula::trainers
