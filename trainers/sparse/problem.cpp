#include "trainers/sparse/problem.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"
#include "core/tabular.h"

namespace regula::sparse {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kDouble);

torch::Tensor design_matrix(int64_t rows, int64_t d, const DesignOptions& design, at::Generator& gen) {
  if (design.kind() == "rademacher") {
    if (!(design.p_plus() > 0 && design.p_plus() < 1)) {
      throw ConfigError(fmt::format("rademacher p_plus = {} is not valid: P(X_ij = +1) must be in (0, 1)", design.p_plus()));
    }
    if (design.p_plus() == 0.5) return at::randint(0, 2, {rows, d}, gen, kF64).mul_(2).sub_(1);
    return at::rand({rows, d}, gen, kF64).lt(design.p_plus()).to(torch::kDouble).mul_(2).sub_(1);
  }
  if (design.kind() == "gaussian") return at::randn({rows, d}, gen, kF64);
  throw ConfigError(fmt::format("design '{}' is not known: use rademacher or gaussian", design.kind()));
}

}  // namespace

torch::Tensor SparseProblem::support() const {
  if (!has_truth()) return torch::empty({0}, torch::kLong);
  return w_star.ne(0).nonzero().flatten();
}

SparseProblem SparseProblem::to(torch::Device device, torch::ScalarType dtype) const {
  auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device, dtype) : t; };
  SparseProblem out = *this;
  out.X = move(X);
  out.y = move(y);
  out.X_val = move(X_val);
  out.y_val = move(y_val);
  out.w_star = move(w_star);
  return out;
}

SparseProblem measure_signal(const torch::Tensor& w_star, int64_t n, int64_t n_val, double sigma,
                             const DesignOptions& design, uint64_t seed) {
  if (n < 1) throw ConfigError(fmt::format("n = {} measurements is not valid: must be >= 1", n));
  if (n_val < 0) throw ConfigError(fmt::format("n_val = {} is not valid: must be >= 0", n_val));
  if (!(sigma >= 0)) throw ConfigError(fmt::format("noise sigma = {} is not valid: must be >= 0", sigma));
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const auto w = w_star.to(torch::kCPU, torch::kDouble).flatten();
  const int64_t d = w.size(0);
  const auto X_all = design_matrix(n + n_val, d, design, gen);
  const auto noise = at::randn({n + n_val}, gen, kF64);
  const auto y_all = X_all.mv(w) + sigma * noise;
  SparseProblem p;
  p.X = X_all.slice(0, 0, n);
  p.y = y_all.slice(0, 0, n);
  p.X_val = X_all.slice(0, n);
  p.y_val = y_all.slice(0, n);
  p.w_star = w;
  return p;
}

SparseProblem make_synthetic(const SyntheticOptions& o) {
  if (o.d() < 1 || o.k() < 1 || o.k() > o.d()) {
    throw ConfigError(fmt::format("sparsity k = {} with dimension d = {} is not valid: need 1 <= k <= d", o.k(), o.d()));
  }
  if (o.support_values().empty()) throw ConfigError("support_values is empty: give at least one value, e.g. [1]");
  auto w = torch::zeros({o.d()}, kF64);
  for (int64_t i = 0; i < o.k(); ++i) {
    w[i] = o.support_values()[static_cast<std::size_t>(i) % o.support_values().size()];
  }
  return measure_signal(w, o.n(), o.n_val(), o.sigma(), o.design(), o.seed());
}

SparseProblem load_problem(const std::filesystem::path& x_path, const std::filesystem::path& y_path,
                           const std::filesystem::path& w_star_path, double val_fraction, uint64_t seed) {
  if (!(val_fraction >= 0 && val_fraction < 1)) {
    throw ConfigError(fmt::format("val_fraction = {} is not valid: use 0 <= val_fraction < 1", val_fraction));
  }
  const auto X = core::read_array(x_path);
  auto y = core::read_array(y_path);
  if (X.dim() != 2) throw DataError(fmt::format("X in '{}' must be a matrix [n, d], got {} dimensions", x_path.string(), X.dim()));
  if (X.size(0) == 0 || X.size(1) == 0) {
    throw DataError(fmt::format("X in '{}' has shape [{}, {}]: it needs at least one row and one column",
                                x_path.string(), X.size(0), X.size(1)));
  }
  // NaN or inf in the data would surface much later as a "divergence"; name the file instead.
  const auto check_finite = [](const torch::Tensor& t, const std::string& what, const std::filesystem::path& path) {
    const auto bad = t.isfinite().logical_not().sum().item<int64_t>();
    if (bad > 0) {
      throw DataError(fmt::format("{} in '{}' holds {} non-finite values (NaN or inf): clean the data first", what,
                                  path.string(), bad));
    }
  };
  check_finite(X, "X", x_path);
  check_finite(y, "y", y_path);
  if (y.dim() == 2 && y.size(1) == 1) y = y.flatten();
  if (y.dim() != 1 || y.size(0) != X.size(0)) {
    throw DataError(fmt::format("y in '{}' must be a vector of {} values (one per row of X), got shape {}",
                                y_path.string(), X.size(0), fmt::join(y.sizes(), "x")));
  }
  SparseProblem p;
  if (!w_star_path.empty()) {
    p.w_star = core::read_array(w_star_path).flatten();
    check_finite(p.w_star, "w_star", w_star_path);
    if (p.w_star.size(0) != X.size(1)) {
      throw DataError(fmt::format("w_star in '{}' has {} values but X has {} columns", w_star_path.string(),
                                  p.w_star.size(0), X.size(1)));
    }
  }
  const int64_t rows = X.size(0);
  const int64_t n_val = static_cast<int64_t>(val_fraction * rows + 0.5);
  if (rows - n_val < 1) throw DataError(fmt::format("'{}' has {} rows: too few to hold out {} for validation", x_path.string(), rows, n_val));
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const auto perm = at::randperm(rows, gen, torch::TensorOptions().dtype(torch::kLong));
  const auto train = perm.slice(0, 0, rows - n_val), val = perm.slice(0, rows - n_val);
  p.X = X.index_select(0, train);
  p.y = y.index_select(0, train);
  p.X_val = X.index_select(0, val);
  p.y_val = y.index_select(0, val);
  return p;
}

}  // namespace regula::sparse
