#pragma once
/// \file Any partial derivative \partial^\alpha f of a model, mixed ones included, at many points:
/// what PDE residuals need (u_xy, u_xxyy, the biharmonic, ...), from one Taylor-mode pass.
///
/// Taylor mode gives directional derivatives D_v^k f = k! y_k along x(t) = z + t v.  A mixed
/// partial is a fixed linear combination of directional ones: by the multinomial theorem
///   D_v^k f = \sum_{|\beta| = k} (k! / \beta!) v^\beta \partial^\beta f,
/// so on the lattice of directions v = i (i \in N^n, |i| = k, over the n coordinates that \alpha
/// involves) the matrix A_{i\beta} = (k!/\beta!) i^\beta is invertible and
///   \partial^\alpha f = \sum_i c_i D_i^k f   with   A^T c = e_\alpha
/// (the interpolation identities of Griewank, Utke and Walther 2000; for n = 2, k = 2 this is the
/// polarization u_xy = (D_{e_x+e_y}^2 u - u_xx - u_yy) / 2).  A PartialsScheme solves these small
/// systems once in float64, merges the directions of all requested partials (each scaled to
/// primitive integers, so e_x serves u_x, u_xx and u_xxxx alike), and evaluates every partial
/// from one propagation of order max |\alpha| as one small contraction of the Taylor stack.
///
/// Models the Taylor engine does not support take nested autograd: one
/// torch::autograd::grad(create_graph) per distinct prefix of the partials' coordinate sequences.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "models/model.h"
#include "regularizers/derivatives.h"

namespace regula::regularizers {

/// \alpha: how often to differentiate along each input coordinate ({2, 0} = d^2/dx_0^2; all zeros
/// = the value itself).
using MultiIndex = std::vector<int64_t>;

/// |\alpha|, the order of the partial.
int64_t order_of(const MultiIndex& alpha);

/// A fixed list of partials of functions R^d -> R^p, prepared for Taylor mode (see the file comment).
class PartialsScheme {
 public:
  /// ConfigError when an index has the wrong length or a negative entry.
  PartialsScheme(std::vector<MultiIndex> partials, int64_t input_dim);

  const std::vector<MultiIndex>& partials() const { return partials_; }
  int64_t input_dim() const { return input_dim_; }
  /// The order K of the one Taylor propagation (max |\alpha|, at least 1).
  int64_t order() const { return order_; }
  /// The merged directions [S, d] (float64, CPU).
  const torch::Tensor& directions() const { return directions_; }
  /// Coefficients [T, 1 + K S] (float64, CPU): partial t = \sum_r w_{tr} Y_r over the Taylor stack Y.
  const torch::Tensor& weights() const { return weights_; }

 private:
  std::vector<MultiIndex> partials_;
  int64_t input_dim_ = 0, order_ = 1;
  torch::Tensor directions_, weights_;
};

/// Values and partials of a model at points z [M, d]: u [M, p] = f(z) and D [M, T, p] with
/// D[:, t] = \partial^{\alpha_t} f (z), differentiable w.r.t. the parameters.
struct Partials {
  torch::Tensor u;
  torch::Tensor D;
};

/// All of a scheme's partials from one Taylor-mode propagation (the plan must be supported).
Partials partials_taylor(const TaylorPlan& plan, const torch::Tensor& points, const PartialsScheme& scheme);

/// The same by nested autograd (any model; the reference the tests compare against).
Partials partials_autograd(const models::Model& model, const torch::Tensor& points,
                           const std::vector<MultiIndex>& partials);

/// Engine kTaylor or kAutograd (kAuto: Taylor mode when the model's plan is supported).
/// ConfigError for kReverse, or for kTaylor on a model Taylor mode cannot handle.
Partials partials(const models::Model& model, const torch::Tensor& points, const PartialsScheme& scheme,
                  Engine engine);

}  // namespace regula::regularizers
