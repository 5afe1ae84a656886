#include "regularizers/taylor_series.h"

#include <cmath>

namespace regula::regularizers::taylor {

namespace {

// dx_i = i x_i, the coefficients of t x'(t); dx_0 is unused.
Series scaled_derivative(const Series& x) {
  Series dx(x.size());
  for (std::size_t i = 1; i < x.size(); ++i) dx[i] = i == 1 ? x[1] : x[i] * static_cast<double>(i);
  return dx;
}

// y_k for y' = h x': (1/k) \sum_{i=1}^k dx_i h_{k-i}  (h known up to k-1).
torch::Tensor ode_step(const Series& dx, const Series& h, int64_t k) {
  torch::Tensor acc = dx[1] * h[k - 1];
  for (int64_t i = 2; i <= k; ++i) acc = acc + dx[i] * h[k - i];
  return k == 1 ? acc : acc / static_cast<double>(k);
}

// (a a)_m using the symmetry of the Cauchy product.
torch::Tensor square(const Series& a, int64_t m) {
  torch::Tensor acc;
  for (int64_t i = 0; 2 * i < m; ++i) {
    auto t = a[i] * a[m - i];
    acc = acc.defined() ? acc + t : t;
  }
  if (acc.defined()) acc = acc * 2.0;
  if (m % 2 == 0) {
    auto mid = a[m / 2].square();
    acc = acc.defined() ? acc + mid : mid;
  }
  return acc;
}

// y with y' = h x' and h = c0 + c1 y + c2 y^2 (tanh: 1 - y^2; sigmoid: y - y^2).
Series quadratic_ode(const Series& x, torch::Tensor y0, double c0, double c1, double c2) {
  const int64_t K = static_cast<int64_t>(x.size()) - 1;
  const auto dx = scaled_derivative(x);
  Series y(K + 1), h(K + 1);
  y[0] = std::move(y0);
  for (int64_t k = 1; k <= K; ++k) {
    const int64_t m = k - 1;  // h_m needs y_0..y_m
    torch::Tensor hm = c2 * square(y, m);
    if (c1 != 0.0) hm = hm + c1 * y[m];
    if (m == 0 && c0 != 0.0) hm = hm + c0;
    h[m] = hm;
    y[k] = ode_step(dx, h, k);
  }
  return y;
}

Series sigmoid_series(const Series& x, double beta) {
  // s = sigmoid(beta x): s' = beta s (1 - s) x'.
  Series bx = x;
  if (beta != 1.0) for (auto& c : bx) c = c * beta;
  return quadratic_ode(bx, torch::sigmoid(bx[0]), 0.0, 1.0, -1.0);
}

Series tanh_series(const Series& x) { return quadratic_ode(x, torch::tanh(x[0]), 1.0, 0.0, -1.0); }

Series softplus_series(const Series& x, const ActivationParams& p) {
  // y' = sigmoid(beta x) x'; torch's softplus is the identity where beta x > threshold.
  const int64_t K = static_cast<int64_t>(x.size()) - 1;
  const auto s = sigmoid_series(x, p.beta);
  const auto dx = scaled_derivative(x);
  Series y(K + 1);
  y[0] = torch::softplus(x[0], p.beta, p.threshold);
  const auto linear = (x[0] * p.beta) > p.threshold;
  for (int64_t k = 1; k <= K; ++k) y[k] = torch::where(linear, x[k], ode_step(dx, s, k));
  return y;
}

Series sin_series(const Series& x) {
  // s' = c x', c' = -s x'.
  const int64_t K = static_cast<int64_t>(x.size()) - 1;
  const auto dx = scaled_derivative(x);
  Series s(K + 1), c(K + 1);
  s[0] = torch::sin(x[0]);
  c[0] = torch::cos(x[0]);
  for (int64_t k = 1; k <= K; ++k) {
    s[k] = ode_step(dx, c, k);
    if (k < K) c[k] = -ode_step(dx, s, k);
  }
  return s;
}

Series product(const Series& a, const Series& b) {
  Series y(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) y[k] = cauchy(a, b, static_cast<int64_t>(k));
  return y;
}

Series gelu_series(const Series& x) {
  // y = x Phi(x), Phi' = phi x', phi' = -x phi x'.
  const int64_t K = static_cast<int64_t>(x.size()) - 1;
  const auto dx = scaled_derivative(x);
  Series phi(K + 1), Phi(K + 1), xphi(K + 1);
  const double inv_sqrt_2pi = 1.0 / std::sqrt(2.0 * M_PI);
  phi[0] = torch::exp(-0.5 * x[0].square()) * inv_sqrt_2pi;
  Phi[0] = 0.5 * (1.0 + torch::erf(x[0] * M_SQRT1_2));
  for (int64_t k = 1; k <= K; ++k) {
    xphi[k - 1] = cauchy(x, phi, k - 1);
    Phi[k] = ode_step(dx, phi, k);
    if (k < K) phi[k] = -ode_step(dx, xphi, k);
  }
  auto y = product(x, Phi);
  y[0] = torch::gelu(x[0]);
  return y;
}

Series relu_series(const Series& x) {
  Series y(x.size());
  y[0] = torch::relu(x[0]);
  const auto on = (x[0] > 0).to(x[0].scalar_type());
  for (std::size_t k = 1; k < x.size(); ++k) y[k] = x[k] * on;
  return y;
}

}  // namespace

torch::Tensor cauchy(const Series& a, const Series& b, int64_t k) {
  torch::Tensor acc = a[0] * b[k];
  for (int64_t i = 1; i <= k; ++i) acc = acc + a[i] * b[k - i];
  return acc;
}

Series apply(Activation act, const Series& x, const ActivationParams& params) {
  switch (act) {
    case Activation::kTanh: return tanh_series(x);
    case Activation::kSigmoid: return sigmoid_series(x, 1.0);
    case Activation::kSoftplus: return softplus_series(x, params);
    case Activation::kSin: return sin_series(x);
    case Activation::kSilu: {
      auto y = product(x, sigmoid_series(x, 1.0));
      y[0] = torch::silu(x[0]);
      return y;
    }
    case Activation::kGelu: return gelu_series(x);
    case Activation::kRelu: return relu_series(x);
  }
  return x;
}

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

}  // namespace regula::regularizers::taylor
