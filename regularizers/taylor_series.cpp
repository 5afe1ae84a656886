#include "regularizers/taylor_series.h"

#include <atomic>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include "core/device.h"
#include "regularizers/taylor_kernels.h"
#include "regularizers/taylor_fused.h"

namespace regula::regularizers::taylor {

namespace {
using detail::kMaxFused;
std::atomic<bool> g_avx512_kernels{true};  // off only through set_avx512_kernels (the tests)
std::atomic<bool> g_fused_cpu{true};       // off only through set_fused_cpu_kernels
}  // namespace

void detail::fused_kernel_argument_error(const char* what, int value) {
  TORCH_CHECK(false, "fused Taylor kernels: unsupported ", what, " ", value, " (orders 0..", kMaxFused - 1,
              " and the built-in activations)");
}

template <class F>
void detail::fused_forward(const F* x, F* y, F* h, int K, int64_t S, int64_t E, Activation act,
                           const ActivationParams& p) {
  if (cpu_has_avx512_kernels()) fused_forward_avx512(x, y, h, K, S, E, act, p);
  else if (core::cpu_has_avx2_fma()) fused_forward_avx2(x, y, h, K, S, E, act, p);
  else fused_forward_kernel<F>(x, y, h, K, S, E, act, p);
}

template <class F>
void detail::fused_backward(const F* gy, const F* h, F* gx, int K, int64_t S, int64_t E) {
  if (cpu_has_avx512_kernels()) fused_backward_avx512(gy, h, gx, K, S, E);
  else if (core::cpu_has_avx2_fma()) fused_backward_avx2(gy, h, gx, K, S, E);
  else fused_backward_kernel<F>(gy, h, gx, K, S, E);
}

template <class F>
void detail::fused_derivatives(const F* u, const F* b, F* a, F* s1, F* s2, int64_t rows, int64_t width,
                               Activation act, const ActivationParams& p) {
  if (cpu_has_avx512_kernels()) fused_derivatives_avx512(u, b, a, s1, s2, rows, width, act, p);
  else if (core::cpu_has_avx2_fma()) fused_derivatives_avx2(u, b, a, s1, s2, rows, width, act, p);
  else fused_derivatives_kernel<F>(u, b, a, s1, s2, rows, width, act, p);
}

template void detail::fused_derivatives<float>(const float*, const float*, float*, float*, float*, int64_t, int64_t,
                                               Activation, const ActivationParams&);
template void detail::fused_derivatives<double>(const double*, const double*, double*, double*, double*, int64_t,
                                                int64_t, Activation, const ActivationParams&);
template void detail::fused_forward<float>(const float*, float*, float*, int, int64_t, int64_t, Activation,
                                           const ActivationParams&);
template void detail::fused_forward<double>(const double*, double*, double*, int, int64_t, int64_t, Activation,
                                            const ActivationParams&);
template void detail::fused_backward<float>(const float*, const float*, float*, int, int64_t, int64_t);
template void detail::fused_backward<double>(const double*, const double*, double*, int, int64_t, int64_t);

bool detail::cpu_has_avx512_kernels() { return g_avx512_kernels && core::cpu_has_avx512(); }
void detail::set_avx512_kernels(bool enabled) { g_avx512_kernels = enabled; }

namespace {

bool fusable(const torch::Tensor& X, int K) { return g_fused_cpu && X.device().is_cpu() && K < kMaxFused; }

// The fused kernels on CPU stacks [1 + K S, E] (see taylor_fused.h).
void fused_forward(const torch::Tensor& X, int K, int64_t S, Activation act, const ActivationParams& p,
                   torch::Tensor& Y, torch::Tensor& H) {
  const int64_t E = X.numel() / X.size(0);
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "taylor_fused_forward", [&] {
    detail::fused_forward(X.data_ptr<scalar_t>(), Y.data_ptr<scalar_t>(), H.data_ptr<scalar_t>(), K, S, E, act, p);
  });
}

void fused_backward(const torch::Tensor& gY, const torch::Tensor& H, int K, int64_t S, torch::Tensor& gX) {
  const int64_t E = H.numel() / H.size(0);
  AT_DISPATCH_FLOATING_TYPES(H.scalar_type(), "taylor_fused_backward", [&] {
    detail::fused_backward(gY.data_ptr<scalar_t>(), H.data_ptr<scalar_t>(), gX.data_ptr<scalar_t>(), K, S, E);
  });
}

// A stack [1 + K S, ...] as K + 1 coefficients of shape [S, ...] (coefficient 0 broadcast).
std::vector<torch::Tensor> per_direction(const torch::Tensor& X, int K, int64_t S) {
  std::vector<torch::Tensor> c;
  std::vector<int64_t> shape = X.sizes().vec();
  shape[0] = S;
  c.push_back(X[0].unsqueeze(0).expand(shape));
  for (int k = 1; k <= K; ++k) c.push_back(X.slice(0, 1 + (k - 1) * S, 1 + k * S));
  return c;
}

// Back to one stack: coefficient 0 from direction 0, then every (k, s).
torch::Tensor stack_back(const std::vector<torch::Tensor>& c) {
  std::vector<torch::Tensor> parts = {c[0].select(0, 0).unsqueeze(0)};
  parts.insert(parts.end(), c.begin() + 1, c.end());
  return torch::cat(parts);
}

// gx_i^s = \sum_{k>=i} gy_k^s h_{k-i}^s (i >= 1); gx_0 = gy_0 h_0 + \sum_s \sum_{k>=1} gy_k^s h_k^s.
torch::Tensor tensor_backward(const torch::Tensor& gY, const torch::Tensor& H, int K, int64_t S) {
  const auto gy = per_direction(gY, K, S), h = per_direction(H, K, S);
  std::vector<torch::Tensor> gx(K + 1);
  auto g0 = gY[0] * H[0];
  for (int k = 1; k <= K; ++k) g0 = g0 + (gy[k] * h[k]).sum(0);
  gx[0] = g0.unsqueeze(0).expand_as(gy[1 <= K ? 1 : 0]);
  for (int i = 1; i <= K; ++i) {
    auto acc = gy[i] * h[0];
    for (int k = i + 1; k <= K; ++k) acc = acc + gy[k] * h[k - i];
    gx[i] = acc;
  }
  return stack_back(gx);
}

struct TaylorActivationFunction : public torch::autograd::Function<TaylorActivationFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& X, int64_t act,
                               double beta, double threshold, int64_t directions) {
    auto [Y, H] = series_stacks(X, static_cast<Activation>(act), ActivationParams{beta, threshold},
                                /*fused=*/g_fused_cpu, directions);
    ctx->save_for_backward({H});
    ctx->saved_data["directions"] = directions;
    return Y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto H = ctx->get_saved_variables()[0];
    const int64_t S = ctx->saved_data["directions"].toInt();
    const int K = static_cast<int>((H.size(0) - 1) / S);
    const auto gY = grads[0].contiguous();
    torch::Tensor gX;
    if (fusable(H, K)) {
      gX = torch::empty_like(H);
      fused_backward(gY, H, K, S, gX);
    } else {
      gX = tensor_backward(gY, H, K, S);
    }
    return {gX, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
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
                                                      const ActivationParams& params, bool fused, int64_t directions) {
  const int64_t S = directions;
  TORCH_CHECK(S >= 1 && (X.size(0) - 1) % S == 0, "a Taylor stack with ", S, " directions needs 1 + K * ", S,
              " slabs, got ", X.size(0));
  const int K = static_cast<int>((X.size(0) - 1) / S);
  torch::NoGradGuard no_grad;
  if (fused && fusable(X, K)) {
    const auto Xc = X.contiguous();
    auto Y = torch::empty_like(Xc), H = torch::empty_like(Xc);
    fused_forward(Xc, K, S, act, params, Y, H);
    return {Y, H};
  }
  auto [y, h] = apply(act, per_direction(X, K, S), params);
  return {stack_back(y), stack_back(h)};
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> activation_derivatives(const torch::Tensor& U,
                                                                               const torch::Tensor& bias,
                                                                               Activation act,
                                                                               const ActivationParams& params) {
  torch::NoGradGuard no_grad;
  if (g_fused_cpu && U.device().is_cpu() && U.dim() >= 1 &&
      (U.scalar_type() == torch::kFloat32 || U.scalar_type() == torch::kFloat64)) {
    const auto Uc = U.contiguous();
    const auto bc = bias.defined() ? bias.contiguous() : bias;
    auto A = torch::empty_like(Uc), S1 = torch::empty_like(Uc), S2 = torch::empty_like(Uc);
    const int64_t width = Uc.size(-1), rows = width == 0 ? 0 : Uc.numel() / width;
    AT_DISPATCH_FLOATING_TYPES(Uc.scalar_type(), "activation_derivatives", [&] {
      const auto* u = Uc.data_ptr<scalar_t>();
      const scalar_t* b = bc.defined() ? bc.data_ptr<scalar_t>() : nullptr;
      detail::fused_derivatives(u, b, A.data_ptr<scalar_t>(), S1.data_ptr<scalar_t>(), S2.data_ptr<scalar_t>(), rows,
                                width, act, params);
    });
    return {A, S1, S2};
  }
  const auto x0 = bias.defined() ? U + bias : U;
  auto [y, h] = apply(act, {x0, torch::ones_like(x0)}, params);
  return {y[0], h[0], h[1]};
}

torch::Tensor taylor_activation(const torch::Tensor& X, Activation act, const ActivationParams& params,
                                int64_t directions) {
  return TaylorActivationFunction::apply(X, static_cast<int64_t>(act), params.beta, params.threshold, directions);
}

}  // namespace regula::regularizers::taylor
