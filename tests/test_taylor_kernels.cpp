// The Taylor activation node and its fused CPU kernels (compiled once per order K = 0..15),
// against the tensor-expression recurrences (the path other devices take) and plain autograd (float64).
#include <torch/autograd.h>

#include "regularizers/taylor_kernels.h"
#include "regularizers/taylor_series.h"
#include "tests/test_util.h"

namespace regula {
namespace {

using namespace regularizers;

class TaylorKernelTest : public testutil::RegulaTest {};

const std::vector<taylor::Activation> kActivations = {
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

// Slabs of 3 x 7 = 21 elements: not a multiple of any vector width (4 to 16 lanes), so every
// kernel also runs its partial-lane tail.
torch::Tensor random_stack(int64_t K, int64_t S, torch::Dtype dtype) {
  return (torch::randn({1 + K * S, 3, 7}, torch::kFloat64) * 1.5).to(dtype);
}

TEST_F(TaylorKernelTest, EveryCompiledOrderForwardEqualsTensorRecurrences) {
  for (bool avx512 : {true, false}) {  // both vector instruction sets (AVX-512 where the CPU has it)
    SCOPED_TRACE(avx512 ? "avx512" : "avx2");
    taylor::detail::set_avx512_kernels(avx512);
    const taylor::ActivationParams params{1.5, 2.0};  // softplus threshold inside the sample range
    for (int64_t K = 0; K <= 15; ++K) {
      for (int64_t S : {1, 3}) {
        const auto X = random_stack(K, S, torch::kFloat64);
        for (auto act : kActivations) {
          const auto [Yf, Hf] = taylor::series_stacks(X, act, params, /*fused=*/true, S);
          const auto [Yt, Ht] = taylor::series_stacks(X, act, params, /*fused=*/false, S);
          expect_close(Yf, Yt, 1e-12, "Y " + label(act, K, S));
          expect_close(Hf, Ht, 1e-12, "H " + label(act, K, S));
        }
      }
    }
  }
  taylor::detail::set_avx512_kernels(true);
}

TEST_F(TaylorKernelTest, EveryCompiledOrderBackwardEqualsTensorPath) {
  for (bool avx512 : {true, false}) {  // both vector instruction sets (AVX-512 where the CPU has it)
    SCOPED_TRACE(avx512 ? "avx512" : "avx2");
    taylor::detail::set_avx512_kernels(avx512);
    const taylor::ActivationParams params{1.5, 2.0};
    for (int64_t K = 1; K <= 15; ++K) {
      for (int64_t S : {1, 3}) {
        const auto X = random_stack(K, S, torch::kFloat64);
        const auto W = torch::randn_like(X);
        for (auto act : kActivations) {
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
  taylor::detail::set_avx512_kernels(true);
}

TEST_F(TaylorKernelTest, Float32KernelsMatchFloat64Recurrences) {
  for (bool avx512 : {true, false}) {  // both vector instruction sets (AVX-512 where the CPU has it)
    SCOPED_TRACE(avx512 ? "avx512" : "avx2");
    taylor::detail::set_avx512_kernels(avx512);
    // The benchmark's dtype: 8 floats per AVX2 lane, against the float64 tensor recurrences.
    const taylor::ActivationParams params{1.5, 2.0};
    for (int64_t K : {1, 2, 4, 6}) {
      const int64_t S = 2;
      const auto X = random_stack(K, S, torch::kFloat64);
      const auto W = torch::randn_like(X);
      for (auto act : kActivations) {
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
  taylor::detail::set_avx512_kernels(true);
}

TEST_F(TaylorKernelTest, FusedCpuKernelEqualsTensorRecurrences) {
  const taylor::ActivationParams params{1.5, 2.0};  // softplus threshold inside the sample range
  for (int64_t S : {1, 3}) {  // 1 + K S slabs: K = 6 with one direction, K = 4 with three
    const auto X = torch::randn({S == 1 ? 7 : 13, 5, 4}, torch::kFloat64) * 2.0;
    for (auto act : kActivations) {
      const auto [Yf, Hf] = taylor::series_stacks(X, act, params, /*fused=*/true, S);
      const auto [Yt, Ht] = taylor::series_stacks(X, act, params, /*fused=*/false, S);
      EXPECT_TRUE(torch::allclose(Yf, Yt, 1e-12, 1e-12)) << taylor::activation_name(act) << " S=" << S;
      EXPECT_TRUE(torch::allclose(Hf, Ht, 1e-12, 1e-12)) << taylor::activation_name(act) << " S=" << S;
    }
  }
}

// A layer of width 0 (or no rows) gives empty derivatives, not a division by zero, in every
// instruction set's build.
TEST_F(TaylorKernelTest, ActivationDerivativesOfAnEmptyLayerAreEmpty) {
  for (bool avx512 : {true, false}) {
    taylor::detail::set_avx512_kernels(avx512);
    for (const auto& shape : {std::vector<int64_t>{3, 0}, std::vector<int64_t>{0, 4}}) {
      const auto U = torch::zeros(shape, torch::kFloat32);
      const auto [A, S1, S2] = taylor::activation_derivatives(U, torch::Tensor(), taylor::Activation::kSigmoid);
      EXPECT_EQ(A.sizes(), U.sizes());
      EXPECT_EQ(S1.numel() + S2.numel(), 0);
    }
  }
  taylor::detail::set_avx512_kernels(true);
}

TEST_F(TaylorKernelTest, SharedCoefficientZeroGradientsMatchSeparateDirections) {
  // Three directions sharing x_0 must give the gradient of three independent single-direction
  // stacks whose x_0 gradients are summed, on the fused and on the tensor path.
  const taylor::ActivationParams params{1.5, 2.0};
  const int64_t K = 4, S = 3;
  const auto X = torch::randn({1 + K * S, 6, 2}, torch::kFloat64);
  const auto W = torch::randn({1 + K * S, 6, 2}, torch::kFloat64);
  for (bool fused : {true, false}) {
    taylor::set_fused_cpu_kernels(fused);
    for (auto act : kActivations) {
      const auto Xs = X.clone().requires_grad_(true);
      const auto g_shared = torch::autograd::grad({(taylor::taylor_activation(Xs, act, params, S) * W).sum()}, {Xs})[0];
      auto g0 = torch::zeros_like(X[0]);
      for (int64_t s = 0; s < S; ++s) {
        auto idx = std::vector<torch::Tensor>{X[0].unsqueeze(0)};
        auto widx = std::vector<torch::Tensor>{s == 0 ? W[0].unsqueeze(0) : torch::zeros_like(W[0]).unsqueeze(0)};
        for (int64_t k = 1; k <= K; ++k) {
          idx.push_back(X[1 + (k - 1) * S + s].unsqueeze(0));
          widx.push_back(W[1 + (k - 1) * S + s].unsqueeze(0));
        }
        const auto Xd = torch::cat(idx).requires_grad_(true);
        const auto y = taylor::apply(act, Xd.unbind(0), params).first;
        const auto g = torch::autograd::grad({(torch::stack(y) * torch::cat(widx)).sum()}, {Xd})[0];
        g0 = g0 + g[0];
        for (int64_t k = 1; k <= K; ++k) {
          EXPECT_TRUE(torch::allclose(g_shared[1 + (k - 1) * S + s], g[k], 1e-11, 1e-11))
              << taylor::activation_name(act) << " fused=" << fused << " k=" << k << " s=" << s;
        }
      }
      EXPECT_TRUE(torch::allclose(g_shared[0], g0, 1e-11, 1e-11)) << taylor::activation_name(act) << " fused=" << fused;
    }
  }
  taylor::set_fused_cpu_kernels(true);
}

TEST_F(TaylorKernelTest, BackwardEqualsAutogradThroughTheRecurrences) {
  // The node's backward uses dy_k/dx_i = h_{k-i}; plain autograd through the tensor recurrences
  // must give the same vector-Jacobian product, on both the fused and the tensor path.
  const taylor::ActivationParams params{1.5, 2.0};
  for (bool fused : {true, false}) {
    taylor::set_fused_cpu_kernels(fused);
    for (auto act : kActivations) {
      const auto X = (torch::randn({6, 3, 4}, torch::kFloat64) * 1.5).requires_grad_(true);
      const auto W = torch::randn({6, 3, 4}, torch::kFloat64);
      const auto g_node = torch::autograd::grad({(taylor::taylor_activation(X, act, params) * W).sum()}, {X})[0];
      const auto y = taylor::apply(act, X.unbind(0), params).first;
      const auto g_plain = torch::autograd::grad({(torch::stack(y) * W).sum()}, {X})[0];
      EXPECT_TRUE(torch::allclose(g_node, g_plain, 1e-11, 1e-11)) << taylor::activation_name(act) << " fused=" << fused;
    }
  }
  taylor::set_fused_cpu_kernels(true);
}

}  // namespace
}  // namespace regula
