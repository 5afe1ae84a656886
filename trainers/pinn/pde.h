#pragma once
/// \file A partial differential equation for physics-informed training: its coordinates and
/// domain, the partials its residual reads, the residual, boundary and initial conditions, and
/// (when known) the solution the error is measured against.  PDE kinds are named in YAML
/// (`pde.kind: poisson2d`) through a registry; a user registers their own in one file with
/// REGULA_REGISTER_PDE (examples/custom_pde.cpp).
///
/// Partials are named after the coordinates: with coordinates {x, t}, "u" is the value,
/// "u_t" = \partial u / \partial t, "u_xx", "u_xxt" = \partial^3 u / \partial x^2 \partial t;
/// any mix of orders is allowed (mixed ones come from Taylor mode by interpolation identities,
/// regularizers/partials.h).  A name refers to every output of the model ([M, p]).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/config.h"
#include "regularizers/box.h"
#include "regularizers/partials.h"

namespace regula::pinn {

/// What a residual reads at the collocation points z [M, d].
class Fields {
 public:
  Fields(torch::Tensor x, torch::Tensor u, std::vector<std::string> names, torch::Tensor partials,
         torch::Tensor laplacian);
  /// The points [M, d].
  const torch::Tensor& x() const { return x_; }
  /// Coordinate j of the points [M, 1] (broadcasts against u).
  torch::Tensor x(int64_t j) const { return x_.narrow(1, j, 1); }
  /// The model's value [M, p].
  const torch::Tensor& u() const { return u_; }
  /// A partial the PDE listed in Pde::terms, by name ("u_xx"): [M, p].  An Error naming the
  /// listed ones otherwise.
  torch::Tensor operator()(const std::string& name) const;
  /// \sum_j \partial^2 u / \partial x_j^2 [M, p] when the PDE asked for it (Pde::laplacian); with
  /// physics.coordinates = S, the unbiased estimate (d/S) \sum_{j \in J} u_{x_j x_j} over S random coordinates.
  const torch::Tensor& laplacian() const;

 private:
  torch::Tensor x_, u_;
  std::vector<std::string> names_;
  torch::Tensor partials_;  // [M, T, p]
  torch::Tensor laplacian_;
};

/// One face of the domain: coordinate `coordinate` fixed at its lower or upper bound.
using Face = regularizers::BoxFace;

/// A boundary or initial condition: on `faces`, the partial `term` equals `target`.
struct Condition {
  /// Names its loss term ("loss_<name>") and its weight (physics.weights.<name>).
  std::string name;
  std::vector<Face> faces;
  /// What is prescribed: "u" (Dirichlet), or a partial by name ("u_x" for a Neumann condition on
  /// an x face, "u_t" for an initial velocity, "u_xx" for a beam's moment).
  std::string term = "u";
  /// The prescribed values [M, p] at points on the faces; empty = the solution's same term.
  std::function<torch::Tensor(const torch::Tensor& x)> target;
};

/// A PDE, r(z, u, partials) = 0 in the domain, with its conditions (see the file comment).
struct Pde {
  std::string name;
  /// One line for logs and summaries ("-Δu = f on [0,1]^2, u = 0 on the boundary").
  std::string description;
  /// Coordinate names, e.g. {"x", "y"} or {"x", "t"}; d = their number.
  std::vector<std::string> coordinates;
  regularizers::Box domain;
  /// Outputs p of the solution.
  int64_t outputs = 1;
  /// The partials the residual reads, by name (all from one Taylor-mode pass).
  std::vector<std::string> terms;
  /// Whether the residual reads Fields::laplacian() (for PDEs in many dimensions, where naming
  /// d second partials would be unwieldy; it may be estimated on a subset of coordinates).
  bool laplacian = false;
  /// The residual [M, p]; the loss is its mean square.
  std::function<torch::Tensor(const Fields&)> residual;
  /// The exact (or reference) solution [M, p] at x [M, d]; empty when unknown.
  std::function<torch::Tensor(const torch::Tensor& x)> solution;
  std::vector<Condition> conditions;

  int64_t dim() const { return static_cast<int64_t>(coordinates.size()); }
};

/// The multi-index of a partial's name over `coordinates` ("u" -> 0, "u_xxy" -> (2, 1, ...));
/// a ConfigError naming the valid form otherwise.
regularizers::MultiIndex parse_term(const std::string& name, const std::vector<std::string>& coordinates);

/// Checks a PDE is complete and consistent (coordinates, domain, residual, term names, faces,
/// conditions' targets when there is no solution); a ConfigError naming the PDE and the problem.
void validate(const Pde& pde);

/// Every face of the domain along the given coordinates (both sides of each).
std::vector<Face> faces_of(const std::vector<int64_t>& coordinates);

/// Builds a PDE from its config section (which also holds `kind`); it reads its own parameters.
using PdeFactory = std::function<Pde(core::Section section)>;
/// Registers (or replaces) a PDE kind.
void register_pde(const std::string& kind, PdeFactory factory);
/// Builds the PDE named by `section.kind`, validated; an unknown kind is a ConfigError listing the registered ones.
Pde make_pde(core::Section section);
/// The registered kinds, sorted.
std::vector<std::string> registered_pdes();

/// Registers a PDE kind at program start: `REGULA_REGISTER_PDE(my_pde, factory)`.  The file must be
/// linked into the program as an object, as examples/CMakeLists.txt does.
#define REGULA_REGISTER_PDE(kind, factory)                 \
  static const bool regula_pde_registered_##kind = [] {    \
    ::regula::pinn::register_pde(#kind, factory);          \
    return true;                                            \
  }()

}  // namespace regula::pinn
