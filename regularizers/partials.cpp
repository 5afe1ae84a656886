#include "regularizers/partials.h"

#include <map>
#include <numeric>

#include <torch/autograd.h>

#include "core/errors.h"

namespace regula::regularizers {

namespace {

// The compositions of k into n non-negative parts, in lexicographic order.
std::vector<std::vector<int64_t>> compositions(int64_t k, int64_t n) {
  if (n == 1) return {{k}};
  std::vector<std::vector<int64_t>> out;
  for (int64_t first = k; first >= 0; --first) {
    for (auto rest : compositions(k - first, n - 1)) {
      rest.insert(rest.begin(), first);
      out.push_back(std::move(rest));
    }
  }
  return out;
}

// One term of a partial: coefficient times D_v^k f / k! = y_k along direction v.
struct Term {
  std::vector<int64_t> direction;  // primitive integer direction over all d coordinates
  int64_t order;
  double coefficient;              // multiplies y_k (k! folded in)
};

// \partial^\alpha f as a combination of y_k along primitive integer directions (file comment).
std::vector<Term> interpolation_terms(const MultiIndex& alpha) {
  const int64_t d = static_cast<int64_t>(alpha.size()), k = order_of(alpha);
  std::vector<int64_t> support;
  for (int64_t j = 0; j < d; ++j)
    if (alpha[j] > 0) support.push_back(j);
  const auto embed = [&](const std::vector<int64_t>& local) {
    std::vector<int64_t> v(static_cast<std::size_t>(d), 0);
    for (std::size_t a = 0; a < support.size(); ++a) v[static_cast<std::size_t>(support[a])] = local[a];
    return v;
  };
  if (support.size() == 1) {  // pure: D_{e_j}^k f = k! y_k
    std::vector<int64_t> e(static_cast<std::size_t>(d), 0);
    e[static_cast<std::size_t>(support[0])] = 1;
    return {Term{e, k, taylor::factorial(k)}};
  }
  const int64_t n = static_cast<int64_t>(support.size());
  const auto lattice = compositions(k, n);  // both the directions i and the multi-indices beta
  const int64_t L = static_cast<int64_t>(lattice.size());
  auto A = torch::zeros({L, L}, torch::kFloat64);
  auto a = A.accessor<double, 2>();
  int64_t target = -1;
  for (int64_t b = 0; b < L; ++b) {
    bool is_alpha = true;
    for (int64_t j = 0; j < n; ++j) is_alpha = is_alpha && lattice[b][j] == alpha[support[j]];
    if (is_alpha) target = b;
  }
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t b = 0; b < L; ++b) {
      double v = taylor::factorial(k);
      for (int64_t j = 0; j < n; ++j) v *= std::pow(static_cast<double>(lattice[i][j]), lattice[b][j]) / taylor::factorial(lattice[b][j]);
      a[i][b] = v;
    }
  }
  auto e = torch::zeros({L, 1}, torch::kFloat64);
  e[target][0] = 1.0;
  const auto c = torch::linalg_solve(A.t(), e).squeeze(1);
  const auto cc = c.accessor<double, 1>();
  double largest = 0;
  for (int64_t i = 0; i < L; ++i) largest = std::max(largest, std::abs(cc[i]));
  std::vector<Term> terms;
  for (int64_t i = 0; i < L; ++i) {
    if (std::abs(cc[i]) <= 1e-13 * largest) continue;  // zero by symmetry, up to rounding
    int64_t g = 0;
    for (auto x : lattice[i]) g = std::gcd(g, x);
    std::vector<int64_t> primitive = lattice[i];
    for (auto& x : primitive) x /= g;
    // D_{g w}^k f = g^k D_w^k f = g^k k! y_k(w)
    terms.push_back(Term{embed(primitive), k, cc[i] * std::pow(static_cast<double>(g), k) * taylor::factorial(k)});
  }
  return terms;
}

}  // namespace

int64_t order_of(const MultiIndex& alpha) { return std::accumulate(alpha.begin(), alpha.end(), int64_t{0}); }

PartialsScheme::PartialsScheme(std::vector<MultiIndex> partials, int64_t input_dim)
    : partials_(std::move(partials)), input_dim_(input_dim) {
  if (input_dim < 1) throw ConfigError(fmt::format("partials need an input dimension >= 1, got {}", input_dim));
  std::map<std::vector<int64_t>, int64_t> index;  // direction -> s
  std::vector<std::vector<Term>> terms;
  for (const auto& alpha : partials_) {
    if (static_cast<int64_t>(alpha.size()) != input_dim) {
      throw ConfigError(fmt::format("a partial's multi-index has {} entries but the inputs have {} coordinates",
                                    alpha.size(), input_dim));
    }
    for (auto a : alpha) {
      if (a < 0) throw ConfigError("a partial's multi-index has a negative entry");
    }
    order_ = std::max(order_, order_of(alpha));
    terms.push_back(order_of(alpha) == 0 ? std::vector<Term>{} : interpolation_terms(alpha));
    for (const auto& t : terms.back()) index.emplace(t.direction, static_cast<int64_t>(index.size()));
  }
  const int64_t S = static_cast<int64_t>(index.size()), T = static_cast<int64_t>(partials_.size());
  directions_ = torch::zeros({S, input_dim}, torch::kFloat64);
  for (const auto& [dir, s] : index) {
    for (int64_t j = 0; j < input_dim; ++j) directions_[s][j] = static_cast<double>(dir[static_cast<std::size_t>(j)]);
  }
  weights_ = torch::zeros({T, 1 + order_ * S}, torch::kFloat64);
  auto w = weights_.accessor<double, 2>();
  for (int64_t t = 0; t < T; ++t) {
    if (order_of(partials_[static_cast<std::size_t>(t)]) == 0) w[t][0] = 1.0;
    for (const auto& term : terms[static_cast<std::size_t>(t)]) {
      w[t][1 + (term.order - 1) * S + index.at(term.direction)] += term.coefficient;
    }
  }
}

Partials partials_taylor(const TaylorPlan& plan, const torch::Tensor& points, const PartialsScheme& scheme) {
  TORCH_CHECK(points.dim() == 2 && points.size(1) == scheme.input_dim(), "points must be [M, ", scheme.input_dim(),
              "], got ", points.sizes());
  const auto opts = points.options().requires_grad(false);
  if (scheme.directions().size(0) == 0) {  // order-0 partials only: the values themselves
    const auto u = taylor_forward(plan, points);
    return {u, u.unsqueeze(1) * scheme.weights().to(opts).select(1, 0).view({1, -1, 1})};
  }
  const auto Y = directional_taylor(plan, points, scheme.directions().to(opts), scheme.order());  // [R, M, p]
  const auto D = torch::tensordot(scheme.weights().to(opts), Y, {1}, {0});                        // [T, M, p]
  return {Y.select(0, 0), D.permute({1, 0, 2})};
}

Partials partials_autograd(const models::Model& model, const torch::Tensor& points,
                           const std::vector<MultiIndex>& partials) {
  torch::AutoGradMode grad_mode(true);
  const int64_t d = points.size(1);
  const auto z = points.detach().requires_grad_(true);
  const auto u = model.forward(z);
  TORCH_CHECK(u.dim() == 2 && u.size(0) == points.size(0), "model '", model.name,
              "' must map [batch, d] to [batch, p], got output ", u.sizes());
  const int64_t p = u.size(1);
  std::vector<torch::Tensor> D(partials.size());
  std::vector<std::vector<torch::Tensor>> columns(partials.size());
  for (int64_t o = 0; o < p; ++o) {
    // value[seq]: the partial along the sorted coordinate sequence seq; grads[seq]: its gradient [M, d].
    std::map<std::vector<int64_t>, torch::Tensor> value{{{}, u.select(1, o)}}, grads;
    for (std::size_t t = 0; t < partials.size(); ++t) {
      TORCH_CHECK(static_cast<int64_t>(partials[t].size()) == d, "multi-index of ", partials[t].size(),
                  " entries for ", d, " coordinates");
      std::vector<int64_t> seq;
      for (int64_t j = 0; j < d; ++j) seq.insert(seq.end(), static_cast<std::size_t>(partials[t][j]), j);
      std::vector<int64_t> prefix;
      for (const auto c : seq) {
        if (!grads.count(prefix)) {
          const auto& h = value.at(prefix);
          torch::Tensor g;
          if (h.requires_grad()) {
            g = torch::autograd::grad({h.sum()}, {z}, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                      /*allow_unused=*/true)[0];
          }
          // A derivative that vanishes identically (e.g. of a linear function) stays zero.
          grads[prefix] = g.defined() ? g : torch::zeros_like(z);
        }
        auto next = prefix;
        next.push_back(c);
        if (!value.count(next)) value[next] = grads.at(prefix).select(1, c);
        prefix = std::move(next);
      }
      columns[t].push_back(value.at(prefix));
    }
  }
  for (std::size_t t = 0; t < partials.size(); ++t) D[t] = torch::stack(columns[t], 1);  // [M, p]
  return {u, partials.empty() ? torch::zeros({points.size(0), 0, p}, u.options()) : torch::stack(D, 1)};
}

Partials partials(const models::Model& model, const torch::Tensor& points, const PartialsScheme& scheme,
                  Engine engine) {
  if (engine == Engine::kReverse) {
    throw ConfigError("engine 'reverse' computes pure first derivatives only; PDE terms use auto, taylor or autograd");
  }
  if (engine == Engine::kAutograd) return partials_autograd(model, points, scheme.partials());
  const auto plan = taylor_plan(model);
  if (!plan.supported()) {
    if (engine == Engine::kTaylor) {
      throw ConfigError(fmt::format("engine 'taylor' cannot handle model '{}': {}; use engine auto or autograd",
                                    model.name, plan.unsupported));
    }
    return partials_autograd(model, points, scheme.partials());
  }
  return partials_taylor(plan, points, scheme);
}

}  // namespace regula::regularizers
