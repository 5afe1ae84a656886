#include "trainers/sparse/lasso_cd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/device.h"
#include "core/errors.h"
#include "trainers/sparse/lasso_kernels.h"

namespace regula::sparse {
namespace detail {
double lasso_dot_avx2(const double* a, const double* b, int64_t n);
void lasso_axpy_avx2(double alpha, const double* x, double* y, int64_t n);
}  // namespace detail

namespace {

// The two kernels of every update (lasso_kernels.h), the AVX2/FMA build when the CPU has it.
struct VectorKernels {
  double (*dot)(const double*, const double*, int64_t);
  void (*axpy)(double, const double*, double*, int64_t);
};
const VectorKernels& vector_kernels() {
  static const VectorKernels k = core::cpu_has_avx2_fma()
                                     ? VectorKernels{detail::lasso_dot_avx2, detail::lasso_axpy_avx2}
                                     : VectorKernels{detail::lasso_dot, detail::lasso_axpy};
  return k;
}
double dot(const double* a, const double* b, int64_t n) { return vector_kernels().dot(a, b, n); }
void axpy(double alpha, const double* x, double* y, int64_t n) { vector_kernels().axpy(alpha, x, y, n); }

// Anderson extrapolation (Bertrand & Massias, 2021) of the last iterates x_0..x_K of a
// fixed-point iteration: c = argmin ||sum_k c_k (x_{k+1} - x_k)|| with sum c = 1, returned
// as sum_k c_k x_{k+1}.  False when the differences are (numerically) dependent.
bool anderson_extrapolate(const std::vector<std::vector<double>>& x, std::vector<double>& out) {
  const std::size_t K = x.size() - 1, m = x[0].size();
  std::vector<std::vector<double>> U(K, std::vector<double>(m));
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t i = 0; i < m; ++i) U[k][i] = x[k + 1][i] - x[k][i];
  // Solve (U U^T) z = 1 by Gaussian elimination with partial pivoting; c = z / sum z.
  std::vector<std::vector<double>> A(K, std::vector<double>(K + 1, 1.0));
  double trace = 0;
  for (std::size_t k = 0; k < K; ++k) {
    for (std::size_t l = 0; l < K; ++l) A[k][l] = dot(U[k].data(), U[l].data(), static_cast<int64_t>(m));
    trace += A[k][k];
  }
  if (!(trace > 0)) return false;
  for (std::size_t k = 0; k < K; ++k) A[k][k] += 1e-12 * trace;
  for (std::size_t c = 0; c < K; ++c) {
    std::size_t p = c;
    for (std::size_t k = c + 1; k < K; ++k) if (std::abs(A[k][c]) > std::abs(A[p][c])) p = k;
    if (!(std::abs(A[p][c]) > 1e-300)) return false;
    std::swap(A[c], A[p]);
    for (std::size_t k = c + 1; k < K; ++k) {
      const double f = A[k][c] / A[c][c];
      for (std::size_t l = c; l <= K; ++l) A[k][l] -= f * A[c][l];
    }
  }
  std::vector<double> z(K);
  for (std::size_t c = K; c-- > 0;) {
    double s = A[c][K];
    for (std::size_t l = c + 1; l < K; ++l) s -= A[c][l] * z[l];
    z[c] = s / A[c][c];
  }
  const double sum = std::accumulate(z.begin(), z.end(), 0.0);
  if (!std::isfinite(sum) || std::abs(sum) < 1e-300) return false;
  out.assign(m, 0.0);
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t i = 0; i < m; ++i) out[i] += z[k] / sum * x[k + 1][i];
  return true;
}

// Constants of the strategy, tuned on bench/run_lasso.py's two problems (celer uses 10, 0.3
// and 10; 0.1 saves outer passes, and 11 iterates instead of 6 cut the epochs on the
// ill-conditioned MNIST problem by a fifth).
constexpr int64_t kFirstWorkingSet = 100;     // features in the first working set
constexpr double kInnerGapRatio = 0.1;        // the inner solve stops at this fraction of the outer gap
constexpr int64_t kGapEvery = 10;             // epochs between inner gap checks
constexpr std::size_t kAndersonIterates = 11; // iterates per Anderson extrapolation

// One Lasso solve: F(w) = 1/2 ||r||^2 + a ||w||_1, r = y - X w.
class Solver {
 public:
  Solver(const ColumnDesign& X, const std::vector<double>& y, double a, bool nonnegative, std::vector<double>& w,
         std::vector<double>& r)
      : X_(X), y_(y), a_(a), nonnegative_(nonnegative), w_(w), r_(r), corr_(static_cast<std::size_t>(X.d)) {}

  LassoSolveStats solve(double tolerance, int64_t max_epochs) {
    std::vector<int64_t> candidates, screened;  // features not (yet) proven inactive, and those proven
    for (int64_t j = 0; j < X_.d; ++j) {
      if (X_.norm2[j] > 0) {
        candidates.push_back(j);
      } else {
        set(j, 0.0);  // a zero column never enters the solution
      }
    }
    LassoSolveStats st;
    int64_t ws_size = 0;
    std::vector<int64_t> ws;
    bool all_screened = false;
    while (true) {
      correlate(candidates);
      const double primal = objective();
      double scale = dual_scale(candidates);
      double gap = primal - dual(scale);
      if (gap <= tolerance * primal && !screened.empty()) {
        // Passed on the features left: confirm with all of them (the dual point of the full problem).
        correlate(screened);
        scale = std::min(scale, dual_scale(screened));
        gap = primal - dual(scale);
      }
      st.gap = primal > 0 ? std::max(gap, 0.0) / primal : 0.0;
      if (gap <= tolerance * primal || st.epochs >= max_epochs) return st;
      // Gap-safe screening: ||theta - theta*|| <= sqrt(2 gap) (D is 1-strongly concave), so
      // a feature whose constraint cannot be active at theta* is zero in every solution.
      const double radius = std::sqrt(2.0 * std::max(gap, 0.0));
      std::vector<int64_t> kept;
      kept.reserve(candidates.size());
      for (const auto j : candidates) {
        if (violation(scale * corr_[j]) + radius * X_.norm[j] < a_) {
          set(j, 0.0);
          screened.push_back(j);
        } else {
          kept.push_back(j);
        }
      }
      candidates.swap(kept);
      if (candidates.empty()) {  // every feature proven inactive: w = 0; the next pass measures its gap
        if (all_screened) return st;
        all_screened = true;
        continue;
      }
      // Working set: the support, then the features nearest to violating their dual constraint.
      int64_t support = 0;
      std::vector<double> priority(static_cast<std::size_t>(X_.d));
      for (const auto j : candidates) {
        if (w_[j] != 0) {
          priority[j] = -std::numeric_limits<double>::infinity();
          ++support;
        } else {
          priority[j] = (a_ - violation(scale * corr_[j])) / X_.norm[j];
        }
      }
      ws_size = std::min<int64_t>(static_cast<int64_t>(candidates.size()),
                                  std::max({kFirstWorkingSet, 2 * support, ws_size}));
      ws = candidates;
      std::nth_element(ws.begin(), ws.begin() + (ws_size - 1), ws.end(),
                       [&](int64_t i, int64_t j) { return priority[i] < priority[j]; });
      ws.resize(static_cast<std::size_t>(ws_size));
      std::sort(ws.begin(), ws.end());  // memory order
      // The inner solve need not go below what the target asks of the whole problem.
      const double inner_tol = std::max(kInnerGapRatio * gap, 0.5 * tolerance * primal);
      st.epochs += solve_working_set(ws, inner_tol, max_epochs - st.epochs);
    }
  }

 private:
  // Coordinate descent on the features `ws` (all others are zero) to an absolute gap of
  // the restricted problem <= tol; returns the epochs used.
  int64_t solve_working_set(const std::vector<int64_t>& ws, double tol, int64_t max_epochs) {
    const int64_t n = X_.n;
    std::vector<std::vector<double>> history;
    std::vector<double> extrapolated;
    int64_t e = 0;
    while (e < max_epochs) {
      for (const auto j : ws) {
        const double* xj = X_.column(j);
        const double old = w_[j], L = X_.norm2[j];
        const double z = old + dot(xj, r_.data(), n) / L, t = a_ / L;
        const double next = nonnegative_ ? std::max(z - t, 0.0) : std::copysign(std::max(std::abs(z) - t, 0.0), z);
        if (next != old) {
          axpy(old - next, xj, r_.data(), n);
          w_[j] = next;
        }
      }
      ++e;
      // Anderson step on the working set's coordinates, kept only when it lowers F.
      history.emplace_back(ws.size());
      for (std::size_t k = 0; k < ws.size(); ++k) history.back()[k] = w_[ws[k]];
      if (history.size() == kAndersonIterates) {
        if (anderson_extrapolate(history, extrapolated)) try_iterate(ws, extrapolated);
        history.clear();
      }
      if (e % kGapEvery == 0) {
        correlate(ws);
        if (objective() - dual(dual_scale(ws)) <= tol) break;
      }
    }
    return e;
  }

  // Moves to the working-set coordinates `v` if that lowers the objective.
  void try_iterate(const std::vector<int64_t>& ws, std::vector<double>& v) {
    std::vector<double> r = r_;
    double l1 = 0;
    for (std::size_t k = 0; k < ws.size(); ++k) {
      if (nonnegative_) v[k] = std::max(v[k], 0.0);
      const double delta = v[k] - w_[ws[k]];
      if (delta != 0) axpy(-delta, X_.column(ws[k]), r.data(), X_.n);
      l1 += std::abs(v[k]);
    }
    const double before = objective();
    const double after = 0.5 * dot(r.data(), r.data(), X_.n) + a_ * l1;  // only ws coordinates are nonzero
    if (after < before) {
      r_.swap(r);
      for (std::size_t k = 0; k < ws.size(); ++k) w_[ws[k]] = v[k];
    }
  }

  void set(int64_t j, double value) {
    if (w_[j] == value) return;
    axpy(w_[j] - value, X_.column(j), r_.data(), X_.n);
    w_[j] = value;
  }
  void correlate(const std::vector<int64_t>& features) {
    for (const auto j : features) corr_[j] = dot(X_.column(j), r_.data(), X_.n);
  }
  // How much a correlation X_j^T theta counts against the constraint <= a.
  double violation(double c) const { return nonnegative_ ? c : std::abs(c); }
  // The largest s <= 1 with s r feasible for the constraints of `features` (correlations in corr_).
  double dual_scale(const std::vector<int64_t>& features) const {
    double worst = 0;
    for (const auto j : features) worst = std::max(worst, violation(corr_[j]));
    return worst > a_ ? a_ / worst : 1.0;
  }
  double objective() const {
    double l1 = 0;
    for (const double v : w_) l1 += std::abs(v);
    return 0.5 * dot(r_.data(), r_.data(), X_.n) + a_ * l1;
  }
  double dual(double scale) const {
    return scale * dot(r_.data(), y_.data(), X_.n) - 0.5 * scale * scale * dot(r_.data(), r_.data(), X_.n);
  }

  const ColumnDesign& X_;
  const std::vector<double>& y_;
  const double a_;
  const bool nonnegative_;
  std::vector<double>& w_;
  std::vector<double>& r_;
  std::vector<double> corr_;  // X_j^T r of the features last correlated
};

}  // namespace

namespace {

// X^T of a CPU float64 matrix as a contiguous [d, n] tensor: a view when X is already held by
// columns, else a copy in cache-sized tiles (about 5x faster here than a strided copy).
torch::Tensor columns_of(const torch::Tensor& X) {
  const auto x = X.detach().to(torch::kCPU, torch::kDouble);
  const auto t = x.t();
  if (t.is_contiguous()) return t;
  const auto src = x.contiguous();
  const int64_t n = x.size(0), d = x.size(1);
  auto out = torch::empty({d, n}, src.options());
  const double* a = src.data_ptr<double>();
  double* b = out.data_ptr<double>();
  constexpr int64_t kTile = 32;
  for (int64_t i0 = 0; i0 < n; i0 += kTile) {
    const int64_t i1 = std::min(n, i0 + kTile);
    for (int64_t j0 = 0; j0 < d; j0 += kTile) {
      const int64_t j1 = std::min(d, j0 + kTile);
      for (int64_t j = j0; j < j1; ++j)
        for (int64_t i = i0; i < i1; ++i) b[j * n + i] = a[i * d + j];
    }
  }
  return out;
}

}  // namespace

ColumnDesign::ColumnDesign(const torch::Tensor& X)
    : n(X.size(0)), d(X.size(1)), columns(columns_of(X)), data(columns.data_ptr<double>()),
      norm2(static_cast<std::size_t>(d)), norm(static_cast<std::size_t>(d)) {
  for (int64_t j = 0; j < d; ++j) {
    norm2[j] = dot(column(j), column(j), n);
    norm[j] = std::sqrt(norm2[j]);
  }
}

LassoSolveStats lasso_coordinate_descent(const ColumnDesign& X, const std::vector<double>& y, double lambda,
                                         bool nonnegative, double tolerance, int64_t max_epochs,
                                         std::vector<double>& w, std::vector<double>& r) {
  if (!(lambda > 0) || !std::isfinite(lambda)) {
    throw ConfigError(fmt::format("Lasso lambda = {} is not valid: must be > 0 and finite", lambda));
  }
  Solver solver(X, y, 0.5 * lambda * static_cast<double>(X.n), nonnegative, w, r);
  return solver.solve(tolerance, max_epochs);
}

}  // namespace regula::sparse
