#pragma once
/// \file The PDEs Regula ships (each with its solution, so the error can be measured), by kind:
///  * `poisson2d`   -\Delta u = 2\pi^2 \sin\pi x \sin\pi y on [0,1]^2, u = 0 on the boundary;
///                  u = \sin\pi x \sin\pi y.
///  * `heat`        u_t = \kappa u_xx on [0,1] x [0,1] (x, t), u = 0 at x = 0, 1,
///                  u(x, 0) = \sin\pi x; u = e^{-\kappa\pi^2 t} \sin\pi x.  Keys: kappa (0.1).
///  * `burgers`     u_t + u u_x = \nu u_xx on [0,1] x [0,1], u = 0 at x = 0, 1; the Cole-Hopf
///                  solution u = 2\nu\pi e^{-\nu\pi^2 t} \sin\pi x / (a + e^{-\nu\pi^2 t} \cos\pi x)
///                  of \phi = a + e^{-\nu\pi^2 t}\cos\pi x.  Keys: nu (0.1), a (2, > 1).
///  * `kdv`         u_t + 6 u u_x + u_xxx = 0 on [-5, 5] x [0, 1], the soliton
///                  u = (c/2) sech^2(\sqrt c (x - c t) / 2) on the x faces and at t = 0.  Keys: c (1).
///  * `beam`        Euler-Bernoulli cantilever EI u_xxxx = q on [0,1] with EI = 1, q = -1 (DeepXDE's
///                  Euler beam): clamped at x = 0 (u = u_x = 0), free at x = 1 (u_xx = u_xxx = 0);
///                  u = -x^4/24 + x^3/6 - x^2/4.
///  * `biharmonic2d` \Delta^2 u = u_xxxx + 2 u_xxyy + u_yyyy = 4\pi^4 \sin\pi x \sin\pi y on [0,1]^2, a
///                  simply supported plate (u = 0, u_xx = 0 on x faces, u_yy = 0 on y faces).
///  * `poisson_nd`  -\Delta u = (\pi^2/d) \sum_j \sin\pi x_j on [0,1]^d (d = `dim`, 100), u = solution on
///                  the boundary; u = (1/d) \sum_j \sin\pi x_j.  The Laplacian may be estimated on
///                  physics.coordinates random coordinates per step.
#include <map>
#include <string>

#include "trainers/pinn/pde.h"

namespace regula::pinn {

/// The shipped PDE kinds (the registry starts with these).
std::map<std::string, PdeFactory> builtin_pdes();

}  // namespace regula::pinn
