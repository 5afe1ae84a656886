// DiagonalLinear, the GD update (hand-computed and autograd), the batched
// engine against single runs, divergence, and early stopping on validation.
#include <cmath>
#include <filesystem>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include "core/errors.h"
#include "trainers/sparse/problem.h"
#include "models/diagonal_linear.h"
#include "tests/test_util.h"
#include "trainers/sparse/batched_gd.h"
#include "trainers/sparse/gd.h"
#include "trainers/sparse/gd_kernels.h"

using namespace regula;
using regula::testutil::RegulaTest;

namespace {
const auto kF64 = torch::TensorOptions().dtype(torch::kDouble);

sparse::GDParams single_params(double eta, int64_t depth, int64_t n, bool positive = false) {
  sparse::GDParams p;
  p.eta = torch::scalar_tensor(eta, kF64);
  p.depth = torch::scalar_tensor(double(depth), kF64);
  p.uniform_depth = double(depth);
  p.inv_n = torch::scalar_tensor(1.0 / double(n), kF64);
  p.parametrization = models::diagonal_parametrization(positive ? "positive" : "signed");
  return p;
}
}  // namespace

class SparseModel : public RegulaTest {};

TEST_F(SparseModel, InitialisationAndForward) {
  models::DiagonalLinear m(models::DiagonalLinearOptions(4).depth(3).w0(1e-6));
  EXPECT_NEAR(m->options.init_scale(), 1e-2, 1e-12);
  EXPECT_NEAR(m->options.w0(), 1e-6, 1e-18);
  EXPECT_TRUE(torch::allclose(m->u, torch::full({4}, 1e-2)));
  EXPECT_TRUE(torch::allclose(m->v, torch::full({4}, 1e-2)));
  EXPECT_EQ(m->weight().abs().max().item<double>(), 0.0);  // u^N - v^N = 0 at init
  EXPECT_EQ(m->parameters().size(), 2u);
  torch::NoGradGuard g;
  m->to(torch::kDouble);
  m->u.copy_(torch::tensor({1.0, 2.0, 0.5, 1.0}, kF64));
  m->v.copy_(torch::tensor({0.0, 1.0, 0.5, 2.0}, kF64));
  const auto w = m->weight();
  EXPECT_TRUE(torch::allclose(w, torch::tensor({1.0, 7.0, 0.0, -7.0}, kF64)));
  const auto x = torch::tensor({{1.0, 1.0, 1.0, 1.0}, {0.0, 1.0, 0.0, 0.0}}, kF64);
  EXPECT_TRUE(torch::allclose(m->forward(x), torch::tensor({1.0, 7.0}, kF64)));
  models::DiagonalLinear pos(models::DiagonalLinearOptions(3).depth(2).init_scale(0.5).parametrization("positive"));
  EXPECT_FALSE(pos->v.defined());
  EXPECT_EQ(pos->parameters().size(), 1u);
  EXPECT_TRUE(torch::allclose(pos->weight(), torch::full({3}, 0.25)));
  EXPECT_THROW(models::DiagonalLinear(models::DiagonalLinearOptions(3).depth(0)), ConfigError);
  EXPECT_THROW(models::DiagonalLinear(models::DiagonalLinearOptions(3).w0(-1.0)), ConfigError);
  // The setters do not depend on their order.
  const auto a = models::DiagonalLinearOptions(4).w0(1e-6).depth(3), b = models::DiagonalLinearOptions(4).depth(3).w0(1e-6);
  EXPECT_DOUBLE_EQ(a.init_scale(), b.init_scale());
  EXPECT_NEAR(a.init_scale(), 1e-2, 1e-15);
}

TEST_F(SparseModel, StepMatchesHandComputation) {
  // d = 2, n = 2, N = 3: every quantity by hand.
  const auto X = torch::tensor({{1.0, 2.0}, {-1.0, 1.0}}, kF64);
  const auto y = torch::tensor({1.0, 0.0}, kF64);
  auto u = torch::tensor({0.5, 1.0}, kF64), v = torch::tensor({0.25, 0.5}, kF64);
  // w = u^3 - v^3 = (0.125 - 0.015625, 1 - 0.125) = (0.109375, 0.875)
  // r = X w - y = (0.109375 + 1.75 - 1, -0.109375 + 0.875) = (0.859375, 0.765625)
  // g = 2 X^T r / 2 = (0.859375 - 0.765625, 1.71875 + 0.765625) = (0.09375, 2.484375)
  const double eta = 0.1;
  const double g0 = 0.09375, g1 = 2.484375;
  const auto loss = sparse::gd_step(u, v, X, y, single_params(eta, 3, 2));
  EXPECT_NEAR(loss.item<double>(), (0.859375 * 0.859375 + 0.765625 * 0.765625) / 2, 1e-15);
  EXPECT_NEAR(u[0].item<double>(), 0.5 - eta * 3 * 0.25 * g0, 1e-15);
  EXPECT_NEAR(u[1].item<double>(), 1.0 - eta * 3 * 1.0 * g1, 1e-15);
  EXPECT_NEAR(v[0].item<double>(), 0.25 + eta * 3 * 0.0625 * g0, 1e-15);
  EXPECT_NEAR(v[1].item<double>(), 0.5 + eta * 3 * 0.25 * g1, 1e-15);
}

TEST_F(SparseModel, StepEqualsGradientDescentOnTheLossViaAutograd) {
  for (int64_t depth : {1, 2, 3, 5}) {
    for (bool positive : {false, true}) {
      const int64_t n = 7, d = 5;
      const auto X = torch::randn({n, d}, kF64), y = torch::randn({n}, kF64);
      models::DiagonalLinear m(models::DiagonalLinearOptions(d).depth(depth).init_scale(0.7).parametrization(positive ? "positive" : "signed"));
      m->to(torch::kDouble);
      {
        torch::NoGradGuard g;
        m->u.copy_(torch::rand({d}, kF64) + 0.2);
        if (m->v.defined()) m->v.copy_(torch::rand({d}, kF64) + 0.2);
      }
      const auto loss = (m->forward(X) - y).square().mean();
      const auto grads = torch::autograd::grad({loss}, m->parameters());
      const double eta = 0.05;
      const auto u_expect = m->u.detach() - eta * grads[0];
      auto u = m->u.detach().clone(), v = m->v.defined() ? m->v.detach().clone() : torch::Tensor();
      const auto l = sparse::gd_step(u, v, X, y, single_params(eta, depth, n, positive));
      EXPECT_NEAR(l.item<double>(), loss.item<double>(), 1e-12);
      EXPECT_TRUE(torch::allclose(u, u_expect, 1e-12, 1e-12)) << "depth " << depth;
      if (!positive) {
        EXPECT_TRUE(torch::allclose(v, m->v.detach() - eta * grads[1], 1e-12, 1e-12)) << "depth " << depth;
      }
    }
  }
}

TEST_F(SparseModel, BatchedSweepEqualsPerProblemRuns) {
  // Two problems of different n (padding) x four parameter sets (depth 7: the fused pass's
  // runtime-exponent path), against single runs; the fused CPU pass and the tensor ops, both
  // models.
  // Fused: with BLAS products, and with the one-pass products (forced at this small size) on
  // the float design and on its int8 copy; and the tensor ops.
  for (const int mode : {0, 1, 2, 3})
    for (const bool positive : {false, true}) {
      const bool fused = mode < 3, one_pass = mode < 2, int8 = mode == 0;
      SCOPED_TRACE(testing::Message() << "fused " << fused << " one pass " << one_pass << " int8 " << int8
                                      << " positive " << positive);
  std::vector<sparse::SparseProblem> problems{
      sparse::make_synthetic(sparse::SyntheticOptions(30, 40, 3).sigma(0.1).n_val(5).seed(1)),
      sparse::make_synthetic(sparse::SyntheticOptions(18, 40, 3).support_values({1, 2}).sigma(0.1).n_val(8).seed(2))};
  const std::vector<sparse::GDConfig> configs{{2, 1e-2, 0.01}, {3, 0.05, 0.02}, {1, 1e-3, 0.005}, {7, 0.3, 0.01}};
  const auto pb = sparse::stack_problems(problems, torch::kCPU, torch::kDouble);
  const auto res = sparse::run_batched_gd(
      pb, configs, sparse::BatchedGDOptions().steps(200).eval_every(20).fused(fused).int8_design(int8)
                   .one_pass_min_entries(one_pass ? 0 : int64_t(1) << 40).parametrization(positive ? "positive" : "signed"));
  ASSERT_EQ(res.steps.size(), 11u);
  for (std::size_t p = 0; p < problems.size(); ++p) {
    for (std::size_t c = 0; c < configs.size(); ++c) {
      auto u = torch::full({40}, configs[c].alpha, kF64), v = u.clone();
      const auto params = single_params(configs[c].eta, configs[c].depth, problems[p].n(), positive);
      double best = INFINITY;
      for (int64_t t = 0; t <= 200; ++t) {
        const auto w = sparse::diagonal_weight(u, v, params);
        const double err = (w - problems[p].w_star).square().sum().item<double>();
        best = std::min(best, t % 20 == 0 ? err : best);
        if (t % 20 == 0) {
          const auto i = static_cast<std::size_t>(res.index(int64_t(p), int64_t(c)));
          EXPECT_NEAR(res.error[i][static_cast<std::size_t>(t / 20)], err, 1e-10 * (1 + err)) << p << " " << c << " " << t;
          const double vl = (problems[p].X_val.mv(w) - problems[p].y_val).square().mean().item<double>();
          EXPECT_NEAR(res.val_loss[i][static_cast<std::size_t>(t / 20)], vl, 1e-10 * (1 + vl));
        }
        if (t < 200) sparse::gd_step(u, v, problems[p].X, problems[p].y, params);
      }
      EXPECT_TRUE(torch::allclose(res.final_w[int64_t(p)][int64_t(c)], sparse::diagonal_weight(u, v, params), 1e-10, 1e-12));
      EXPECT_NEAR(res.best_error[int64_t(p)][int64_t(c)].item<double>(), best, 1e-10 * (1 + best));
    }
  }
    }
}

TEST_F(SparseModel, DivergenceIsReportedWithAFix) {
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(20, 30, 2).seed(3)).to(torch::kCPU, torch::kDouble);
  models::DiagonalLinear m(models::DiagonalLinearOptions(30).depth(2).init_scale(0.5));
  m->to(torch::kDouble);
  sparse::DiagonalTrainer trainer(m, sparse::DiagonalTrainerOptions(5.0).steps(500).eval_every(5));
  trainers::CallbackList none;
  try {
    trainer.fit(pr, none);
    FAIL() << "expected a DivergenceError";
  } catch (const DivergenceError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("smaller train.lr"), std::string::npos) << msg;
    EXPECT_NE(msg.find("w0"), std::string::npos) << msg;
  }
  // The batched engine: throw on request, else mark and freeze only the diverged run.
  const auto pb = sparse::stack_problems({pr}, torch::kCPU, torch::kDouble);
  const std::vector<sparse::GDConfig> cfg{{2, 0.5, 5.0}, {2, 1e-3, 0.01}};
  EXPECT_THROW(sparse::run_batched_gd(pb, cfg, sparse::BatchedGDOptions().steps(300).throw_on_divergence(true)),
               DivergenceError);
  const auto res = sparse::run_batched_gd(pb, cfg, sparse::BatchedGDOptions().steps(300));
  EXPECT_EQ(res.diverged, (std::vector<uint8_t>{1, 0}));
  EXPECT_TRUE(torch::isfinite(res.final_w).all().item<bool>());
}

TEST_F(SparseModel, EarlyStoppingOnValidationRestoresTheBestIterate) {
  // Noisy problem, tiny init: validation loss falls, then rises as noise is fitted.
  const auto pr = sparse::make_synthetic(sparse::SyntheticOptions(60, 150, 3).sigma(1.0).n_val(60).seed(4))
                      .to(torch::kCPU, torch::kDouble);
  models::DiagonalLinear m(models::DiagonalLinearOptions(150).depth(2).w0(1e-6));
  m->to(torch::kDouble);
  trainers::CallbackList cbs;
  auto es = std::make_shared<trainers::EarlyStopping>(trainers::EarlyStoppingOptions().monitor("val_loss").patience(20));
  cbs.add(es);
  std::vector<std::pair<int64_t, double>> seen;  // (step, val_loss) of every evaluation
  struct Rec : trainers::Callback {
    std::vector<std::pair<int64_t, double>>* out;
    void on_eval_end(trainers::TrainState& s) override { out->emplace_back(s.step, s.metrics.at("val_loss")); }
  };
  auto rec = std::make_shared<Rec>();
  rec->out = &seen;
  cbs.add(rec);
  sparse::DiagonalTrainer trainer(m, sparse::DiagonalTrainerOptions(0.02).steps(20000).eval_every(10));
  const auto fit = trainer.fit(pr, cbs);
  ASSERT_FALSE(fit.stop_reason.empty()) << "validation loss never stopped improving";
  EXPECT_LT(fit.steps, 20000);
  // The restored weights are the best evaluation's, and they have the smallest validation loss seen.
  double best = INFINITY;
  for (const auto& [s, v] : seen) best = std::min(best, v);
  EXPECT_DOUBLE_EQ(es->best(), best);
  const double restored = (pr.X_val.mv(m->weight().detach()) - pr.y_val).square().mean().item<double>();
  EXPECT_NEAR(restored, best, 1e-12);
  EXPECT_EQ(fit.steps - es->best_step(), 20 * 10);  // patience evaluations after the best
}

namespace {
// Equal element by element, NaN equal to NaN (a diverging run logs NaNs before it is frozen).
bool same_logs(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (std::size_t j = 0; j < a[i].size(); ++j) {
      if (!(a[i][j] == b[i][j] || (std::isnan(a[i][j]) && std::isnan(b[i][j])))) return false;
    }
  }
  return true;
}
}  // namespace

TEST_F(SparseModel, BatchedRunResumesExactlyFromItsCheckpoint) {
  // Validation data, logged paths, mixed depths and one diverging (frozen) configuration.
  std::vector<sparse::SparseProblem> problems{
      sparse::make_synthetic(sparse::SyntheticOptions(30, 40, 3).sigma(0.1).n_val(5).seed(1)),
      sparse::make_synthetic(sparse::SyntheticOptions(18, 40, 3).sigma(0.1).n_val(8).seed(2))};
  const std::vector<sparse::GDConfig> configs{{2, 1e-2, 0.01}, {3, 0.05, 0.02}, {2, 0.5, 5.0}};
  const auto pb = sparse::stack_problems(problems, torch::kCPU, torch::kDouble);
  const auto ckpt = (tmp() / "checkpoints" / "batched_gd.pt").string();
  for (const bool fused : {true, false}) {
    SCOPED_TRACE(testing::Message() << "fused " << fused);
    const auto opts = sparse::BatchedGDOptions().eval_every(10).path_coords(2).fused(fused);
    const auto whole = sparse::run_batched_gd(pb, configs, sparse::BatchedGDOptions(opts).steps(300));
    std::filesystem::remove(ckpt);
    // "Interrupted" at step 160, then continued to 300 from the checkpoint.
    auto part = sparse::BatchedGDOptions(opts).checkpoint_every(50).checkpoint_path(ckpt).resume(true);
    sparse::run_batched_gd(pb, configs, sparse::BatchedGDOptions(part).steps(160));
    const auto resumed = sparse::run_batched_gd(pb, configs, sparse::BatchedGDOptions(part).steps(300));
    EXPECT_EQ(resumed.steps, whole.steps);
    EXPECT_TRUE(same_logs(resumed.error, whole.error));
    EXPECT_TRUE(same_logs(resumed.val_loss, whole.val_loss));
    EXPECT_TRUE(same_logs(resumed.paths, whole.paths));
    EXPECT_TRUE(same_logs(resumed.train_loss, whole.train_loss));
    EXPECT_EQ(resumed.diverged, whole.diverged);
    EXPECT_EQ(whole.diverged, (std::vector<uint8_t>{0, 0, 1, 0, 0, 1}));
    EXPECT_TRUE(torch::equal(resumed.final_w, whole.final_w));
    EXPECT_TRUE(torch::equal(resumed.best_w, whole.best_w));
    EXPECT_TRUE(torch::equal(resumed.val_best_step, whole.val_best_step));
  }
  // A checkpoint of another run is refused, and so is a truncated file.
  const auto other = std::vector<sparse::GDConfig>{{2, 1e-2, 0.02}, {3, 0.05, 0.02}, {2, 0.5, 5.0}};
  const auto again = sparse::BatchedGDOptions().eval_every(10).path_coords(2).steps(400).checkpoint_every(50)
                         .checkpoint_path(ckpt).resume(true);
  try {
    sparse::run_batched_gd(pb, other, again);
    FAIL() << "expected a CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("different run"), std::string::npos) << e.what();
  }
  std::filesystem::resize_file(ckpt, std::filesystem::file_size(ckpt) / 2);
  EXPECT_THROW(sparse::run_batched_gd(pb, configs, again), CheckpointError);
}

TEST_F(SparseModel, OnePassDesignProductsEqualBlasProducts) {
  // Sizes off the kernel's row blocks of 4, several problems and parameter sets, entries over
  // the whole int8 range, the design as int8 and as float, one thread and two (row slices with
  // partial sums); float64 to rounding, float32 to its precision.
  torch::manual_seed(3);
  const int64_t P = 2, n = 150, d = 301, C = 3;
  const auto Xd_all = torch::randint(-127, 128, {P, n, d}, kF64);
  const auto Xq_all = sparse::exact_int8(Xd_all);
  ASSERT_TRUE(Xq_all.defined());
  EXPECT_EQ(Xq_all.scalar_type(), torch::kInt8);
  const int threads = at::get_num_threads();
  for (const int64_t problems : {int64_t(1), P})
  for (const int t : {1, 2})
    for (const bool int8 : {true, false})
      for (const auto dtype : {torch::kDouble, torch::kFloat}) {
        SCOPED_TRACE(testing::Message() << (dtype == torch::kDouble ? "float64" : "float32") << " int8 " << int8
                                        << " threads " << t << " problems " << problems);
        at::set_num_threads(t);
        const auto Xd = Xd_all.narrow(0, 0, problems).contiguous(), Xq = Xq_all.narrow(0, 0, problems).contiguous();
        const int64_t P = problems;
        const auto X = Xd.to(dtype);
        const auto W = torch::randn({P, C, d}, kF64).to(dtype), y = torch::randn({P, 1, n}, kF64).to(dtype);
        auto R = torch::empty({P, C, n}, W.options()), G = torch::empty({P, C, d}, W.options());
        sparse::design_products(int8 ? Xq : X, W, y, R, &G);
        const auto R_ref = torch::matmul(W.to(torch::kDouble), Xd.transpose(1, 2)) - y.to(torch::kDouble);
        const auto G_ref = torch::matmul(R.to(torch::kDouble), Xd);
        const double tol = dtype == torch::kDouble ? 1e-12 : 1e-5;
        EXPECT_LT(((R.to(torch::kDouble) - R_ref).abs().max() / R_ref.abs().max()).item<double>(), tol);
        EXPECT_LT(((G.to(torch::kDouble) - G_ref).abs().max() / G_ref.abs().max()).item<double>(), tol);
        // The residual alone leaves G untouched.
        auto R2 = torch::empty_like(R);
        const auto G_before = G.clone();
        sparse::design_products(int8 ? Xq : X, W, y, R2);
        EXPECT_TRUE(torch::equal(R, R2));
        EXPECT_TRUE(torch::equal(G, G_before));
      }
  at::set_num_threads(threads);
  // Not exact in int8: fractions, out of range, non-finite; and wrong shapes are refused.
  EXPECT_FALSE(sparse::exact_int8(torch::full({2, 3}, 0.5, kF64)).defined());
  EXPECT_FALSE(sparse::exact_int8(torch::full({2, 3}, 128.0, kF64)).defined());
  EXPECT_FALSE(sparse::exact_int8(torch::full({2, 3}, NAN, kF64)).defined());
  auto R = torch::empty({P, C, n + 1}, kF64);
  EXPECT_THROW(sparse::design_products(Xq_all, torch::zeros({P, C, d}, kF64), torch::zeros({P, 1, n}, kF64), R),
               c10::Error);
}
