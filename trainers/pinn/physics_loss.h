#pragma once
/// \file The physics-informed loss: the mean squared PDE residual at collocation points drawn
/// afresh in the domain each step (as k-TV draws its points), plus the mean squared misfit of
/// each boundary or initial condition at points drawn on its faces, each term weighted:
///   L = w_r (1/M) \sum_m |r(z_m)|^2 + \sum_c w_c (1/M_c) \sum_m |B_c u(y_m) - g_c(y_m)|^2.
/// Partials come from one Taylor-mode pass per point set (mixed ones by interpolation,
/// regularizers/partials.h); models Taylor mode cannot handle fall back to nested autograd and
/// the log says so once.  A regularizer to the minibatch trainer, so checkpoints, resume,
/// callbacks and logging are the trainer's own; its terms are logged as loss_residual, loss_<condition>.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/options.h"
#include "regularizers/derivatives.h"
#include "regularizers/partials.h"
#include "regularizers/regularizer.h"
#include "trainers/pinn/pde.h"

namespace regula::pinn {

/// Options of PhysicsLoss: `PhysicsOptions().collocation(2048).weight("boundary", 10)`.
struct PhysicsOptions {
  /// Collocation points drawn uniformly in the domain per step.
  REGULA_ARG(int64_t, collocation) = 1024;
  /// Points drawn on each condition's faces per step.
  REGULA_ARG(int64_t, boundary) = 256;
  /// The Laplacian (PDEs that read it): coordinates drawn per step, 0 = all d.
  REGULA_ARG(int64_t, coordinates) = 0;
  /// Derivative engine: auto (Taylor mode when the model supports it, else nested autograd),
  /// taylor or autograd.
  REGULA_ARG(regularizers::Engine, engine) = regularizers::Engine::kAuto;
  /// Weights by term name ("residual" or a condition's name); 1 for those not given.
  using WeightMap = std::map<std::string, double>;
  REGULA_ARG(WeightMap, weights);

 public:
  PhysicsOptions& weight(const std::string& term, double w) {
    weights_[term] = w;
    return *this;
  }
  double weight_of(const std::string& term) const {
    const auto it = weights_.find(term);
    return it == weights_.end() ? 1.0 : it->second;
  }
};

/// The partials a residual of `pde` reads: pde.terms, then (`with_laplacian`, for PDEs that read
/// the Laplacian on every coordinate) the d pure second partials, so that one pass gives all.
regularizers::PartialsScheme residual_scheme(const Pde& pde, bool with_laplacian);

/// What the residual of `pde` reads for `model` at x [M, d]: u and the partials of pde.terms from
/// one pass of `engine` (taylor or autograd) over `scheme`, and the Laplacian: from the same pass
/// when `scheme` is residual_scheme(pde, true) and `laplacian_coords` is undefined, else from a
/// second pass on the coordinates `laplacian_coords` [S] int64 (undefined = all d), scaled by d/S.
Fields pde_fields(const Pde& pde, const models::Model& model, const torch::Tensor& x,
                  const regularizers::PartialsScheme& scheme, regularizers::Engine engine,
                  const torch::Tensor& laplacian_coords = {});

/// The residual [M, p] of `pde` for `model` at x (the functional core; every coordinate in the
/// Laplacian).  For an exact solution wrapped as a Model it is ~0.
torch::Tensor pde_residual(const Pde& pde, const models::Model& model, const torch::Tensor& x,
                           regularizers::Engine engine = regularizers::Engine::kAuto);

/// Condition c's misfit B_c u - g_c [M, p] for `model` at points y on its faces.
torch::Tensor condition_misfit(const Pde& pde, const Condition& c, const models::Model& model, const torch::Tensor& y,
                               regularizers::Engine engine = regularizers::Engine::kAuto);

/// The PDE's solution as a Model (nested autograd differentiates it), for targets and tests.
models::Model solution_model(const Pde& pde);

/// The physics-informed loss (see the file comment).
class PhysicsLoss : public regularizers::Regularizer {
 public:
  PhysicsLoss(Pde pde, PhysicsOptions options);
  std::string name() const override { return "physics"; }
  /// Picks the engine (logged once) and checks the model's inputs and outputs against the PDE.
  void setup(const models::Model& model, const torch::Tensor& train_inputs) override;
  /// The weighted loss at fresh points.
  torch::Tensor penalty(const models::Model& model) override;
  /// loss_residual and loss_<condition> of the last penalty() (unweighted).
  std::vector<std::pair<std::string, torch::Tensor>> last_terms() const override { return last_terms_; }

  const Pde& pde() const { return pde_; }
  const PhysicsOptions& options() const { return options_; }
  regularizers::Engine engine() const { return engine_; }
  const std::string& engine_reason() const { return engine_reason_; }

 private:
  Pde pde_;
  PhysicsOptions options_;
  regularizers::PartialsScheme scheme_;
  regularizers::Engine engine_ = regularizers::Engine::kAuto;
  std::string engine_reason_;
  regularizers::BoxSampler sampler_;  // draws in the PDE's domain
  std::vector<std::pair<std::string, torch::Tensor>> last_terms_;
};

}  // namespace regula::pinn
