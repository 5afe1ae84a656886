// The fused CPU Taylor kernels, compiled once per order K = 0..15: every instance against the
// tensor-expression recurrences (the path other devices take), forward and backward.
#include <torch/autograd.h>

#include "regularizers/taylor_series.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using namespace regularizers;

class TaylorOrderKernelTest : public testutil::RegulaTest {};

const std::vector<taylor::Activation> kAll = {
    taylor::Activation::kTanh, taylor::Activation::kSigmoid, taylor::Activation::kSoftplus, taylor::Activation::kSin,
    taylor::Activation::kSilu, taylor::Activation::kGelu, taylor::Activation::kRelu};

// |a - b| <= tol * max(1, max |b|), elementwise (high-order coefficients grow like K!).
void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tol, const std::string& what) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  const double diff = (a.to(torch::kFloat64) - b).abs().max().item<double>();
  EXPECT_LE(diff, tol * scale) << what << ": max diff " << diff << " at scale " << scale;
}

std::string label(taylor::Activation act, int64_t K, int64_t S) {
  return taylor::activation_name(act) + " K=" + std::to_string(K) + " S=" + std::to_string(S);
}

// Slabs of 3 x 7 = 21 elements: not a multiple of the AVX2 width (4 doubles, 8 floats), so every
// kernel also runs its partial-lane tail.
torch::Tensor random_stack(int64_t K, int64_t S, torch::Dtype dtype) {
  return (torch::randn({1 + K * S, 3, 7}, torch::kFloat64) * 1.5).to(dtype);
}

TEST_F(TaylorOrderKernelTest, EveryCompiledOrderForwardEqualsTensorRecurrences) {
  const taylor::ActivationParams params{1.5, 2.0};  // softplus threshold inside the sample range
  for (int64_t K = 0; K <= 15; ++K) {
    for (int64_t S : {1, 3}) {
      const auto X = random_stack(K, S, torch::kFloat64);
      for (auto act : kAll) {
        const auto [Yf, Hf] = taylor::series_stacks(X, act, params, /*fused=*/true, S);
        const auto [Yt, Ht] = taylor::series_stacks(X, act, params, /*fused=*/false, S);
        expect_close(Yf, Yt, 1e-12, "Y " + label(act, K, S));
        expect_close(Hf, Ht, 1e-12, "H " + label(act, K, S));
      }
    }
  }
}

TEST_F(TaylorOrderKernelTest, EveryCompiledOrderBackwardEqualsTensorPath) {
  const taylor::ActivationParams params{1.5, 2.0};
  for (int64_t K = 1; K <= 15; ++K) {
    for (int64_t S : {1, 3}) {
      const auto X = random_stack(K, S, torch::kFloat64);
      const auto W = torch::randn_like(X);
      for (auto act : kAll) {
        std::vector<torch::Tensor> g;
        for (bool fused : {true, false}) {
          taylor::set_fused_cpu_kernels(fused);
          const auto Xg = X.clone().requires_grad_(true);
          g.push_back(torch::autograd::grad({taylor::taylor_activation(Xg, act, params, S)}, {Xg}, {W})[0]);
        }
        taylor::set_fused_cpu_kernels(true);
        expect_close(g[0], g[1], 1e-12, "gX " + label(act, K, S));
      }
    }
  }
}

TEST_F(TaylorOrderKernelTest, Float32KernelsMatchFloat64Recurrences) {
  // The benchmark's dtype: 8 floats per AVX2 lane, against the float64 tensor recurrences.
  const taylor::ActivationParams params{1.5, 2.0};
  for (int64_t K : {1, 2, 4, 6}) {
    const int64_t S = 2;
    const auto X = random_stack(K, S, torch::kFloat64);
    const auto W = torch::randn_like(X);
    for (auto act : kAll) {
      const auto [Yf, Hf] = taylor::series_stacks(X.to(torch::kFloat32), act, params, /*fused=*/true, S);
      const auto [Yt, Ht] = taylor::series_stacks(X, act, params, /*fused=*/false, S);
      expect_close(Yf, Yt, 1e-5, "float32 Y " + label(act, K, S));
      expect_close(Hf, Ht, 1e-5, "float32 H " + label(act, K, S));
      const auto X32 = X.to(torch::kFloat32).requires_grad_(true);
      const auto g32 = torch::autograd::grad({taylor::taylor_activation(X32, act, params, S)}, {X32},
                                             {W.to(torch::kFloat32)})[0];
      taylor::set_fused_cpu_kernels(false);
      const auto X64 = X.clone().requires_grad_(true);
      const auto g64 = torch::autograd::grad({taylor::taylor_activation(X64, act, params, S)}, {X64}, {W})[0];
      taylor::set_fused_cpu_kernels(true);
      expect_close(g32, g64, 1e-5, "float32 gX " + label(act, K, S));
    }
  }
}

}  // namespace
}  // namespace regula
