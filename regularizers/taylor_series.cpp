#include "regularizers/taylor_series.h"

#include <atomic>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include "regularizers/taylor_kernels.h"
#include "regularizers/taylor_recurrences.h"

namespace regula::regularizers::taylor {

namespace {

using detail::kMaxFused;
using detail::Small;

std::atomic<bool> g_fused_cpu{true};

}  // namespace

namespace detail {
bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
}  // namespace detail

namespace {

bool fusable(const torch::Tensor& X) { return g_fused_cpu && X.device().is_cpu() && X.size(0) <= kMaxFused; }

// Y, H [K+1, E] from X [K+1, E], one element at a time with the recurrences in registers.
void fused_forward(const torch::Tensor& X, Activation act, const ActivationParams& p, torch::Tensor& Y,
                   torch::Tensor& H) {
  if (detail::cpu_has_avx2()) return detail::fused_forward_avx2(X, act, p, Y, H);
  const int K = static_cast<int>(X.size(0)) - 1;
  const int64_t E = X.numel() / (K + 1);
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "taylor_fused_forward", [&] {
    const scalar_t* xp = X.data_ptr<scalar_t>();
    scalar_t* yp = Y.data_ptr<scalar_t>();
    scalar_t* hp = H.data_ptr<scalar_t>();
    at::parallel_for(0, E, 2048, [&](int64_t begin, int64_t end) {
      Small<scalar_t> x{}, y{}, h{};
      for (int64_t e = begin; e < end; ++e) {
        for (int k = 0; k <= K; ++k) x[k] = xp[k * E + e];
        detail::Recurrences<scalar_t, Small<scalar_t>>(x, K).run(act, p, y, h);
        for (int k = 0; k <= K; ++k) {
          yp[k * E + e] = y[k];
          hp[k * E + e] = h[k];
        }
      }
    });
  });
}

// gX_i = \sum_{k >= i} gY_k H_{k-i}, per element.
void fused_backward(const torch::Tensor& gY, const torch::Tensor& H, torch::Tensor& gX) {
  if (detail::cpu_has_avx2()) return detail::fused_backward_avx2(gY, H, gX);
  const int K = static_cast<int>(H.size(0)) - 1;
  const int64_t E = H.numel() / (K + 1);
  AT_DISPATCH_FLOATING_TYPES(H.scalar_type(), "taylor_fused_backward", [&] {
    const scalar_t* gyp = gY.data_ptr<scalar_t>();
    const scalar_t* hp = H.data_ptr<scalar_t>();
    scalar_t* gxp = gX.data_ptr<scalar_t>();
    at::parallel_for(0, E, 2048, [&](int64_t begin, int64_t end) {
      scalar_t gy[kMaxFused], h[kMaxFused];
      for (int64_t e = begin; e < end; ++e) {
        for (int k = 0; k <= K; ++k) gy[k] = gyp[k * E + e], h[k] = hp[k * E + e];
        for (int i = 0; i <= K; ++i) {
          scalar_t acc = 0;
          for (int k = i; k <= K; ++k) acc += gy[k] * h[k - i];
          gxp[i * E + e] = acc;
        }
      }
    });
  });
}

torch::Tensor tensor_backward(const torch::Tensor& gY, const torch::Tensor& H) {
  const int64_t K1 = H.size(0);
  auto gX = gY * H[0];
  for (int64_t lag = 1; lag < K1; ++lag) {
    gX.slice(0, 0, K1 - lag).add_(gY.slice(0, lag, K1) * H[lag]);
  }
  return gX;
}

struct TaylorActivationFunction : public torch::autograd::Function<TaylorActivationFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& X, int64_t act,
                               double beta, double threshold) {
    auto [Y, H] = series_stacks(X, static_cast<Activation>(act), ActivationParams{beta, threshold}, fusable(X));
    ctx->save_for_backward({H});
    return Y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto H = ctx->get_saved_variables()[0];
    const auto gY = grads[0].contiguous();
    torch::Tensor gX;
    if (fusable(H)) {
      gX = torch::empty_like(H);
      fused_backward(gY, H, gX);
    } else {
      gX = tensor_backward(gY, H);
    }
    return {gX, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void set_fused_cpu_kernels(bool enabled) { g_fused_cpu = enabled; }
bool fused_cpu_kernels() { return g_fused_cpu; }

std::string activation_name(Activation act) {
  switch (act) {
    case Activation::kTanh: return "tanh";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kSoftplus: return "softplus";
    case Activation::kSin: return "sin";
    case Activation::kSilu: return "silu";
    case Activation::kGelu: return "gelu";
    case Activation::kRelu: return "relu";
  }
  return "?";
}

std::pair<Series, Series> apply(Activation act, const Series& x, const ActivationParams& params) {
  const int K = static_cast<int>(x.size()) - 1;
  Series y(x.size()), h(x.size());
  detail::Recurrences<torch::Tensor, Series>(x, K).run(act, params, y, h);
  return {std::move(y), std::move(h)};
}

std::pair<torch::Tensor, torch::Tensor> series_stacks(const torch::Tensor& X, Activation act,
                                                      const ActivationParams& params, bool fused) {
  torch::NoGradGuard no_grad;
  if (fused && X.device().is_cpu() && X.size(0) <= kMaxFused) {
    const auto Xc = X.contiguous();
    auto Y = torch::empty_like(Xc), H = torch::empty_like(Xc);
    fused_forward(Xc, act, params, Y, H);
    return {Y, H};
  }
  auto [y, h] = apply(act, X.unbind(0), params);
  return {torch::stack(y), torch::stack(h)};
}

torch::Tensor taylor_activation(const torch::Tensor& X, Activation act, const ActivationParams& params) {
  return TaylorActivationFunction::apply(X, static_cast<int64_t>(act), params.beta, params.threshold);
}

}  // namespace regula::regularizers::taylor
