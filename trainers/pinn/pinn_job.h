#pragma once
/// \file The config front end of `regula pinn`: one run of physics-informed training, read
/// like a `regula train` run (the same run spec, model, train sections, variants x seeds,
/// outputs and --resume) with `pde:` and `physics:` in place of `data:` and `regularizer:`.
///
///     pde:      {kind: poisson2d}          # or heat, burgers, kdv, beam, biharmonic2d, poisson_nd,
///                                          # or a registered kind; its own keys (nu, kappa, dim, ...)
///     model:    {kind: mlp, hidden: [64, 64, 64], activation: tanh}
///     physics:  {collocation: 1024, boundary: 256, coordinates: 0, engine: auto,
///                weights: {residual: 1, boundary: 1, ...}, test_grid: 101, test_points: 2000}
///     train:    {steps: 5000, eval_every: 100, optimizer: {kind: adam, lr: 1e-3}, ...}
///
/// The test set is the PDE's solution on a grid (test_grid per axis, d <= 2) or at test_points
/// random points (d > 2); test_rel_l2 = ||u - u*|| / ||u*|| on it is the error metric.
#include <cstdint>

#include "core/config.h"
#include "core/run.h"
#include "trainers/data.h"
#include "trainers/pinn/pde.h"
#include "trainers/train_job.h"

namespace regula::pinn {

/// The embedded defaults of `regula pinn`: 2-D Poisson, a 3 x 64 tanh network, 3000 steps.
extern const char* const kPinnDefaults;

/// The solution of `pde` on a grid of `grid` points per axis when d <= 2, else at `points`
/// uniform random points (seeded with `seed`); inputs [n, d], targets [n, p], float64.
/// An empty training set ([0, d], [0, p]): the physics loss needs none.
trainers::Dataset pde_test_set(const Pde& pde, int64_t grid, int64_t points, uint64_t seed);

/// Builds one physics-informed run (the JobReader of `regula pinn`).
trainers::TrainJob read_pinn_job(core::Section root, const core::RunSpec& run, uint64_t seed);

}  // namespace regula::pinn
