// Example: a PDE of your own, named in YAML.
//
//   1. Write a factory that reads its parameters from the `pde:` section and returns a pinn::Pde:
//      coordinate names, the domain, the partials the residual reads (by name: u_xx, u_xy, ...),
//      the residual, the boundary/initial conditions and, when you know it, the solution (for
//      the error metric and as the default target of the conditions).
//   2. Register it with REGULA_REGISTER_PDE.
//   3. List this file in examples/CMakeLists.txt (it is linked into `regula` as an object).
//   4. regula pinn pde.kind=helmholtz2d pde.n=1
#include <cmath>

#include <fmt/format.h>

#include "trainers/pinn/pde.h"

namespace regula::examples {

/// Helmholtz: -Δu - k² u = k² sin(kx) sin(ky) on [0,1]², u = 0 on the boundary, with
/// k = 2πn; solution u = sin(kx) sin(ky) (DeepXDE's Helmholtz example).
pinn::Pde helmholtz2d(core::Section s) {
  const auto n = s.get<int64_t>("n", 1);
  s.check(n >= 1, "n", "the wave number k = 2πn needs an integer n >= 1");
  const double k = 2 * 3.14159265358979323846 * static_cast<double>(n);
  pinn::Pde p;
  p.description = fmt::format("-Δu - k²u = k² sin kx sin ky on [0,1]², k = 2π·{}", n);
  p.coordinates = {"x", "y"};
  p.domain = {{0, 0}, {1, 1}};
  p.terms = {"u_xx", "u_yy"};
  p.solution = [k](const torch::Tensor& x) { return torch::sin(k * x.narrow(1, 0, 1)) * torch::sin(k * x.narrow(1, 1, 1)); };
  p.residual = [k, sol = p.solution](const pinn::Fields& f) {
    return -f("u_xx") - f("u_yy") - k * k * f.u() - k * k * sol(f.x());
  };
  p.conditions = {{"boundary", pinn::faces_of({0, 1}), "u", {}}};  // target: the solution (0 there)
  return p;
}

REGULA_REGISTER_PDE(helmholtz2d, helmholtz2d);

}  // namespace regula::examples
