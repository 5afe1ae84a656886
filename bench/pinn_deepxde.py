#!/usr/bin/env python3
"""PINN benchmark anchors (issue 10): DeepXDE (PyTorch backend) and plain PyTorch nested autograd.

Time per training step and relative L2 error after N steps, on the four problems of the PINN
benchmark, with the network, loss and point counts the C++ trainer uses:

  poisson2d     (x, y) in [0,1]^2:  -(u_xx + u_yy) = 2 pi^2 sin(pi x) sin(pi y), u = 0 on the boundary
  kdv           (x, t) in [-5,5]x[0,1]: u_t + 6 u u_x + u_xxx = 0, soliton c = 1; u = exact at x = +-5 and t = 0
  beam          x in [0,1]: u_xxxx = -1 (the Euler-Bernoulli cantilever, DeepXDE's Euler beam), u = u_x = 0
                                    at x = 0, u_xx = u_xxx = 0 at x = 1; u = -x^4/24 + x^3/6 - x^2/4
  biharmonic2d  (x, y) in [0,1]^2:  u_xxxx + 2 u_xxyy + u_yyyy = 4 pi^4 sin(pi x) sin(pi y); u = 0 on the
                                    boundary, u_xx = 0 on x = 0, 1, u_yy = 0 on y = 0, 1

MLP d-64-64-64-1 (d = 2; 1 for the beam), tanh, Glorot-normal weights and zero biases (DeepXDE's FNN "Glorot normal"), float32,
Adam lr 1e-3, loss = MSE(PDE residual) + sum over conditions of MSE(condition residual), weights 1,
one thread.  Relative L2 error = ||u - u*|| / ||u*|| on the 101 x 101 grid of the domain (101 points
for the beam; boundary included).

Methods (--methods):
  deepxde       what a DeepXDE user writes: dde.geometry.Rectangle / GeometryXTime, dde.icbc.DirichletBC,
                IC and OperatorBC (u_xx = 0, u_t = 0), the PDE with dde.grad.jacobian / hessian, nested
                for 3rd/4th order (u_xxxx = hessian(u_xx)), dde.data.PDE / TimePDE, dde.Model,
                compile("adam", lr=1e-3), train(); needs `deepxde` (bench/setup_pinn_env.sh).
  torch_nested  the same network and loss in plain PyTorch: torch.autograd.grad(create_graph=True) nested
                per derivative order, one forward per loss term; runs in any venv with torch.

Point counts.  torch_nested: exactly 1024 interior points for the PDE term and 256 points per
condition term (uniform on the interior / on the condition's set), as the C++ trainer.  DeepXDE has
no per-condition count: it samples num_domain interior points, num_boundary points on the whole
(spatial) boundary and num_initial points at t = 0, filters those for each condition by its
on_boundary / on_initial predicate, and evaluates the PDE residual term on all of them (interior +
boundary + initial: its `train_x_all`).  The network itself sees the condition points stacked in
front of train_x_all (`train_x`), and the PDE function runs on every row of it.  So here
num_domain = 1024 and
  poisson2d     num_boundary = 256                    -> u = 0: 256 points
  kdv           num_boundary = 256, num_initial = 256 -> u(+-5, t): 256, u(x, 0): 256
  beam          num_boundary = 2 (an interval's boundary is its two end points: one point per condition,
                where the other methods repeat the same point 256 times)
  biharmonic2d  num_boundary = 512                    -> u = 0: 512, u_xx = 0 (x faces): ~256, u_yy = 0 (y faces): ~256
(each run prints the exact counts: PDE-term points and network rows per step).  The biharmonic's
u = 0 term sees the whole boundary, so it gets twice the points of the face terms.

Collocation points (--resample).  Default: DeepXDE's usual fixed training points (Hammersley), and for
torch_nested one fixed uniform draw.  --resample: DeepXDE samples pseudo-randomly and redraws its PDE
points every step with dde.callbacks.PDEPointResampler(period=1) (its condition points stay fixed:
with bc_points=True the filtered per-condition counts would change and DeepXDE refuses); torch_nested
draws all points fresh every step, as the C++ trainer.  Each output line says which.

Timing: ms_per_step = median over windows of --window steps of the window's mean step time, after
--warmup steps (the first steps and model construction/compile excluded).  DeepXDE's steps are timed
between its callbacks, so they include its per-step loop (numpy -> tensor, gradient-cache clear,
resampling); display_every = N, so its test-loss evaluation runs only at the end (that step is an
outlier the median ignores).  seconds_total = the sum of all N step times (no setup, no L2 evaluations).
Every --eval-every steps the relative L2 error is taken (outside the timing) and, with --curve, written
as (pde, method, step, seconds, rel_l2): the error at equal wall time.

    PY=$(bench/setup_pinn_env.sh)
    $PY bench/pinn_deepxde.py --check                       # residual of the exact solutions (float64)
    $PY bench/pinn_deepxde.py --steps 2000 --csv pinn.csv   # all four PDEs, both methods
    $PY bench/pinn_deepxde.py --pdes kdv --methods torch_nested --resample --curve curve.csv
    $PY bench/pinn_deepxde.py --report pinn.csv curve.csv   # markdown table (+ L2 at equal wall time)
"""
import argparse
import math
import os
import statistics
import sys
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_csv import write_rows  # noqa: E402

PI = math.pi
N_INTERIOR, N_COND = 1024, 256
HIDDEN = [64, 64, 64]


# --- plain PyTorch derivatives --------------------------------------------------------------

def grad(f, x):
    """d f / d x for f of shape (n, 1), x (n, 2): shape (n, 2), differentiable again."""
    return torch.autograd.grad(f, x, torch.ones_like(f), create_graph=True)[0]


def col(a, j):
    return a[:, j:j + 1]


def sin_sin(x):
    return torch.sin(PI * col(x, 0)) * torch.sin(PI * col(x, 1))


# --- samplers (uniform, torch) --------------------------------------------------------------

def box(n, lo, hi, gen, dtype):
    lo, hi = torch.tensor(lo, dtype=dtype), torch.tensor(hi, dtype=dtype)
    return lo + (hi - lo) * torch.rand(n, len(lo), generator=gen, dtype=dtype)


def at_point(n, point, dtype):
    """n copies of one point (a condition at an end of an interval)."""
    return torch.tensor([point], dtype=dtype).repeat(n, 1)


def on_faces(n, lo, hi, axis, gen, dtype):
    """Uniform on the two faces x_axis = lo[axis] and x_axis = hi[axis]."""
    x = box(n, lo, hi, gen, dtype)
    side = torch.rand(n, generator=gen) < 0.5
    x[:, axis] = torch.where(side, torch.tensor(lo[axis], dtype=dtype), torch.tensor(hi[axis], dtype=dtype))
    return x


def on_boundary(n, lo, hi, gen, dtype):
    """Uniform on the whole boundary of a square (the four faces have the same length here)."""
    x = box(n, lo, hi, gen, dtype)
    face = torch.randint(0, 4, (n,), generator=gen)
    for f in range(4):
        axis, val = f // 2, (lo if f % 2 == 0 else hi)[f // 2]
        x[face == f, axis] = val
    return x


def at_time_zero(n, lo, hi, gen, dtype):
    x = box(n, lo, hi, gen, dtype)
    x[:, 1] = lo[1]
    return x


# --- the problems -----------------------------------------------------------------------------

class Cond:
    def __init__(self, name, sample, residual, needs_grad):
        self.name, self.sample, self.residual, self.needs_grad = name, sample, residual, needs_grad


class Problem:
    name, lo, hi = "", (0.0, 0.0), (1.0, 1.0)

    def exact(self, x):
        raise NotImplementedError

    def exact_np(self, x):
        return self.exact(torch.as_tensor(x, dtype=torch.float64)).numpy()

    def residual(self, x, u):
        """PDE residual from u = u(x), plain nested autograd."""
        raise NotImplementedError

    def conditions(self):
        raise NotImplementedError

    def deepxde(self, dde, distribution):
        """Returns (dde.data object, {condition name: index}) the way a DeepXDE user writes it."""
        raise NotImplementedError


class Poisson2d(Problem):
    name = "poisson2d"

    def exact(self, x):
        return sin_sin(x)

    def residual(self, x, u):
        g = grad(u, x)
        u_xx = col(grad(col(g, 0), x), 0)
        u_yy = col(grad(col(g, 1), x), 1)
        return -(u_xx + u_yy) - 2 * PI**2 * sin_sin(x)

    def conditions(self):
        lo, hi = self.lo, self.hi
        return [Cond("u=0", lambda n, g, d: on_boundary(n, lo, hi, g, d), lambda x, u: u, False)]

    def deepxde(self, dde, distribution):
        geom = dde.geometry.Rectangle([0, 0], [1, 1])

        def pde(x, y):
            u_xx = dde.grad.hessian(y, x, i=0, j=0)
            u_yy = dde.grad.hessian(y, x, i=1, j=1)
            return -(u_xx + u_yy) - 2 * PI**2 * torch.sin(PI * x[:, 0:1]) * torch.sin(PI * x[:, 1:2])

        bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_b: on_b)
        return dde.data.PDE(geom, pde, [bc], num_domain=N_INTERIOR, num_boundary=256,
                            train_distribution=distribution), ["u=0"]


class KdV(Problem):
    name, lo, hi = "kdv", (-5.0, 0.0), (5.0, 1.0)
    c = 1.0

    def exact(self, x):
        c = self.c
        return c / 2 / torch.cosh(math.sqrt(c) / 2 * (col(x, 0) - c * col(x, 1)))**2

    def residual(self, x, u):
        g = grad(u, x)
        u_x, u_t = col(g, 0), col(g, 1)
        u_xx = col(grad(u_x, x), 0)
        u_xxx = col(grad(u_xx, x), 0)
        return u_t + 6 * u * u_x + u_xxx

    def conditions(self):
        lo, hi = self.lo, self.hi
        return [Cond("u(+-5,t)", lambda n, g, d: on_faces(n, lo, hi, 0, g, d), lambda x, u: u - self.exact(x), False),
                Cond("u(x,0)", lambda n, g, d: at_time_zero(n, lo, hi, g, d), lambda x, u: u - self.exact(x), False)]

    def deepxde(self, dde, distribution):
        geomtime = dde.geometry.GeometryXTime(dde.geometry.Interval(-5, 5), dde.geometry.TimeDomain(0, 1))

        def pde(x, y):
            u_x = dde.grad.jacobian(y, x, i=0, j=0)
            u_t = dde.grad.jacobian(y, x, i=0, j=1)
            u_xx = dde.grad.hessian(y, x, i=0, j=0)
            u_xxx = dde.grad.jacobian(u_xx, x, i=0, j=0)
            return u_t + 6 * y * u_x + u_xxx

        bc = dde.icbc.DirichletBC(geomtime, self.exact_np, lambda _, on_b: on_b)
        ic = dde.icbc.IC(geomtime, self.exact_np, lambda _, on_i: on_i)
        return dde.data.TimePDE(geomtime, pde, [bc, ic], num_domain=N_INTERIOR, num_boundary=256, num_initial=256,
                                train_distribution=distribution), ["u(+-5,t)", "u(x,0)"]


class Beam(Problem):
    name, lo, hi = "beam", (0.0,), (1.0,)

    def exact(self, x):
        x = col(x, 0)
        return -x**4 / 24 + x**3 / 6 - x**2 / 4

    def residual(self, x, u):
        u_x = grad(u, x)
        u_xx = grad(u_x, x)
        u_xxxx = grad(grad(u_xx, x), x)
        return u_xxxx + 1

    def conditions(self):
        left = lambda n, g, d: at_point(n, 0.0, d)  # noqa: E731
        right = lambda n, g, d: at_point(n, 1.0, d)  # noqa: E731
        return [Cond("u(0)=0", left, lambda x, u: u, False),
                Cond("u_x(0)=0", left, lambda x, u: grad(u, x), True),
                Cond("u_xx(1)=0", right, lambda x, u: grad(grad(u, x), x), True),
                Cond("u_xxx(1)=0", right, lambda x, u: grad(grad(grad(u, x), x), x), True)]

    def deepxde(self, dde, distribution):
        # DeepXDE's own Euler beam example (examples/pinn_forward/Euler_beam.py).
        geom = dde.geometry.Interval(0, 1)

        def ddy(x, y):
            return dde.grad.hessian(y, x)

        def dddy(x, y):
            return dde.grad.jacobian(ddy(x, y), x)

        def pde(x, y):
            return dde.grad.hessian(ddy(x, y), x) + 1

        left = lambda x, on_b: on_b and dde.utils.isclose(x[0], 0)  # noqa: E731
        right = lambda x, on_b: on_b and dde.utils.isclose(x[0], 1)  # noqa: E731
        bcs = [dde.icbc.DirichletBC(geom, lambda x: 0, left), dde.icbc.NeumannBC(geom, lambda x: 0, left),
               dde.icbc.OperatorBC(geom, lambda x, y, _: ddy(x, y), right),
               dde.icbc.OperatorBC(geom, lambda x, y, _: dddy(x, y), right)]
        return dde.data.PDE(geom, pde, bcs, num_domain=N_INTERIOR, num_boundary=2,
                            train_distribution=distribution), ["u(0)=0", "u_x(0)=0", "u_xx(1)=0", "u_xxx(1)=0"]


class Biharmonic2d(Problem):
    name = "biharmonic2d"

    def exact(self, x):
        return sin_sin(x)

    def residual(self, x, u):
        g = grad(u, x)
        h_x = grad(col(g, 0), x)            # u_xx, u_xy
        h_y = grad(col(g, 1), x)            # u_yx, u_yy
        t_xx = grad(col(h_x, 0), x)         # u_xxx, u_xxy
        u_xxxx = col(grad(col(t_xx, 0), x), 0)
        u_xxyy = col(grad(col(t_xx, 1), x), 1)
        u_yyyy = col(grad(col(grad(col(h_y, 1), x), 1), x), 1)
        return u_xxxx + 2 * u_xxyy + u_yyyy - 4 * PI**4 * sin_sin(x)

    def conditions(self):
        lo, hi = self.lo, self.hi
        return [Cond("u=0", lambda n, g, d: on_boundary(n, lo, hi, g, d), lambda x, u: u, False),
                Cond("u_xx=0", lambda n, g, d: on_faces(n, lo, hi, 0, g, d),
                     lambda x, u: col(grad(col(grad(u, x), 0), x), 0), True),
                Cond("u_yy=0", lambda n, g, d: on_faces(n, lo, hi, 1, g, d),
                     lambda x, u: col(grad(col(grad(u, x), 1), x), 1), True)]

    def deepxde(self, dde, distribution):
        geom = dde.geometry.Rectangle([0, 0], [1, 1])

        def pde(x, y):
            u_xx = dde.grad.hessian(y, x, i=0, j=0)
            u_yy = dde.grad.hessian(y, x, i=1, j=1)
            u_xxxx = dde.grad.hessian(u_xx, x, i=0, j=0)
            u_xxyy = dde.grad.hessian(u_xx, x, i=1, j=1)
            u_yyyy = dde.grad.hessian(u_yy, x, i=1, j=1)
            return u_xxxx + 2 * u_xxyy + u_yyyy - 4 * PI**4 * torch.sin(PI * x[:, 0:1]) * torch.sin(PI * x[:, 1:2])

        bc_u = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_b: on_b)
        bc_xx = dde.icbc.OperatorBC(geom, lambda x, y, _: dde.grad.hessian(y, x, i=0, j=0),
                                    lambda x, on_b: on_b and (np.isclose(x[0], 0) or np.isclose(x[0], 1)))
        bc_yy = dde.icbc.OperatorBC(geom, lambda x, y, _: dde.grad.hessian(y, x, i=1, j=1),
                                    lambda x, on_b: on_b and (np.isclose(x[1], 0) or np.isclose(x[1], 1)))
        return dde.data.PDE(geom, pde, [bc_u, bc_xx, bc_yy], num_domain=N_INTERIOR, num_boundary=512,
                            train_distribution=distribution), ["u=0", "u_xx=0", "u_yy=0"]


PROBLEMS = {p.name: p for p in (Poisson2d(), KdV(), Beam(), Biharmonic2d())}


def grid(problem, dtype=torch.float32):
    """The grid of 101 points per axis of the domain (boundary included), as (101^d, d)."""
    axes = [torch.linspace(lo, hi, 101, dtype=torch.float64) for lo, hi in zip(problem.lo, problem.hi)]
    x = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(axes))
    return x.to(dtype), problem.exact(x)


def widths(problem):
    return [len(problem.lo)] + HIDDEN + [1]


def rel_l2(u_pred, u_exact):
    u_pred = torch.as_tensor(u_pred, dtype=torch.float64).reshape(-1)
    u_exact = u_exact.reshape(-1)
    return float(torch.linalg.vector_norm(u_pred - u_exact) / torch.linalg.vector_norm(u_exact))


def step_stats(durations, warmup, window):
    """ms per step: the median over windows of `window` steps (after `warmup`) of each window's mean."""
    timed = durations[warmup:] if len(durations) > warmup else durations
    w = max(1, min(window, len(timed)))
    means = [1e3 * sum(timed[i:i + w]) / w for i in range(0, len(timed) - w + 1, w)]
    return statistics.median(means), len(means)


# --- plain PyTorch -------------------------------------------------------------------------

def mlp(problem):
    layers = []
    WIDTHS = widths(problem)
    for i in range(len(WIDTHS) - 1):
        lin = torch.nn.Linear(WIDTHS[i], WIDTHS[i + 1])
        torch.nn.init.xavier_normal_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 2 < len(WIDTHS):
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def torch_loss(problem, net, x_pde, conds, x_conds):
    x = x_pde.requires_grad_(True)
    loss = problem.residual(x, net(x)).square().mean()
    for c, xc in zip(conds, x_conds):
        if c.needs_grad:
            xc.requires_grad_(True)
        loss = loss + c.residual(xc, net(xc)).square().mean()
    return loss


def run_torch_nested(problem, args, curve):
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    net = mlp(problem)
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    conds = problem.conditions()
    draw = lambda: (box(N_INTERIOR, problem.lo, problem.hi, gen, torch.float32),  # noqa: E731
                    [c.sample(N_COND, gen, torch.float32) for c in conds])
    x_pde, x_conds = draw()
    xg, ug = grid(problem)

    def evaluate():
        with torch.no_grad():
            return rel_l2(net(xg), ug)

    durations, elapsed = [], 0.0
    for step in range(1, args.steps + 1):
        t0 = time.perf_counter()
        if args.resample:
            x_pde, x_conds = draw()
        else:
            x_pde, x_conds = x_pde.detach(), [xc.detach() for xc in x_conds]
        adam.zero_grad(set_to_none=True)
        loss = torch_loss(problem, net, x_pde, conds, x_conds)
        loss.backward()
        adam.step()
        dt = time.perf_counter() - t0
        durations.append(dt)
        elapsed += dt
        if step % args.eval_every == 0 or step == args.steps:
            curve.append((step, elapsed, evaluate(), loss.item()))
    counts = f"pde {N_INTERIOR}, conditions " + ", ".join(f"{c.name}: {N_COND}" for c in conds)
    rows_per_step = N_INTERIOR + N_COND * len(conds)
    return durations, curve[-1][2], counts, rows_per_step


# --- DeepXDE ---------------------------------------------------------------------------------

def import_deepxde():
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import deepxde as dde  # prints its backend banner
    return dde


def run_deepxde(problem, args, curve):
    dde = import_deepxde()
    dde.config.set_default_float("float32")
    dde.config.set_random_seed(args.seed)
    data, names = problem.deepxde(dde, "pseudo" if args.resample else "Hammersley")
    net = dde.nn.FNN(widths(problem), "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)
    xg, ug = grid(problem)
    xg_np = xg.numpy()

    class Timer(dde.callbacks.Callback):
        """Step times between consecutive on_epoch_end calls (after the resampler), L2 outside them."""

        def __init__(self):
            super().__init__()
            self.durations, self.elapsed, self.step = [], 0.0, 0

        def on_train_begin(self):
            self.last = time.perf_counter()

        def on_epoch_end(self):
            dt = time.perf_counter() - self.last
            self.durations.append(dt)
            self.elapsed += dt
            self.step += 1
            if self.step % args.eval_every == 0 or self.step == args.steps:
                loss = float(np.sum(self.model.train_state.loss_train)) if self.step == args.steps else float("nan")
                curve.append((self.step, self.elapsed, rel_l2(self.model.predict(xg_np), ug), loss))
            self.last = time.perf_counter()

    timer = Timer()
    callbacks = ([dde.callbacks.PDEPointResampler(period=1)] if args.resample else []) + [timer]
    model.train(iterations=args.steps, display_every=args.steps, callbacks=callbacks, verbose=0)
    n_all = len(data.train_x_all)
    counts = f"pde {n_all} (interior {N_INTERIOR} + boundary/initial {n_all - N_INTERIOR}), conditions " + \
        ", ".join(f"{nm}: {k}" for nm, k in zip(names, data.num_bcs))
    return timer.durations, curve[-1][2], counts, len(data.train_x)


# --- residual check ----------------------------------------------------------------------------

def check(pdes, seed):
    """The residuals of the exact solutions in float64: plain nested autograd (PDE and every condition
    term) and, where deepxde imports, DeepXDE's whole loss (its data.losses on its training points)."""
    torch.set_default_dtype(torch.float64)
    gen = torch.Generator().manual_seed(seed)
    try:
        dde = import_deepxde()
        dde.config.set_default_float("float64")
    except ImportError:
        dde = None
        print("note: no deepxde here: only the plain PyTorch residuals are checked")
    worst = 0.0
    for name in pdes:
        p = PROBLEMS[name]
        x = box(N_INTERIOR, p.lo, p.hi, gen, torch.float64).requires_grad_(True)
        terms = {"pde": p.residual(x, p.exact(x)).abs().max().item()}
        # Control: the same code must see a wrong solution (u* + 0.1 x^4 breaks every one of these PDEs).
        control = p.residual(x, p.exact(x) + 0.1 * col(x, 0)**4).abs().max().item()
        for c in p.conditions():
            xc = c.sample(N_COND, gen, torch.float64).requires_grad_(True)
            terms[c.name] = c.residual(xc, p.exact(xc)).abs().max().item()
        print(f"{name:13s} torch_nested  max |residual|: " + ", ".join(f"{k} {v:.2e}" for k, v in terms.items())
              + f"  (control u* + 0.1 x^4: pde {control:.2e})")
        assert control > 1e-3, control
        worst = max(worst, *terms.values())
        if dde is not None:
            data, names = p.deepxde(dde, "Hammersley")
            inputs = torch.as_tensor(data.train_x, dtype=torch.float64).requires_grad_(True)
            dde.grad.clear()
            errs = data.losses(None, p.exact(inputs), lambda _, e: e.abs().max(), inputs, None)
            dterms = dict(zip(["pde"] + names, [float(e.detach()) for e in errs]))
            print(f"{name:13s} deepxde       max |residual|: " + ", ".join(f"{k} {v:.2e}" for k, v in dterms.items()))
            worst = max(worst, *dterms.values())
    torch.set_default_dtype(torch.float32)
    print(f"worst {worst:.2e} (limit 1e-8)")
    assert worst < 1e-8, worst


# --- report ---------------------------------------------------------------------------------

def report(paths):
    """One markdown table from CSVs of --csv (and --curve: the error at equal wall time, the last
    evaluation of each method at or before the fastest method's total time for that PDE)."""
    import csv
    runs, curves = [], {}
    for path in paths:
        with open(path) as fh:
            for r in csv.DictReader(fh):
                if "step" in r:
                    curves.setdefault((r["pde"], r["method"]), []).append((int(r["step"]), float(r["seconds"]),
                                                                          float(r["rel_l2"])))
                else:
                    runs.append(r)
    print("| pde | method | steps | ms/step | rel L2 after N | seconds total | vs torch_nested | rel L2 at equal time |")
    print("|---|---|---|---|---|---|---|---|")
    for name in PROBLEMS:
        mine = [r for r in runs if r["pde"] == name]
        if not mine:
            continue
        ref = {r["method"]: float(r["ms_per_step"]) for r in mine}.get("torch_nested")
        t_eq = min(float(r["seconds_total"]) for r in mine)
        for r in mine:
            ms = float(r["ms_per_step"])
            ratio = f"{ms / ref:.2f}x" if ref else "-"
            pts = [c for c in curves.get((name, r["method"]), []) if c[1] <= t_eq * 1.0001]
            eq = f"{pts[-1][2]:.3e} (step {pts[-1][0]}, {pts[-1][1]:.0f} s)" if pts else "-"
            print(f"| {name} | {r['method']} | {r['steps']} | {ms:.1f} | {float(r['rel_l2']):.3e} | "
                  f"{float(r['seconds_total']):.0f} | {ratio} | {eq} |")
    print("vs torch_nested: ms/step over the plain-PyTorch nested-autograd step; equal time: the last L2 "
          "evaluation at or before the fastest method's total training time for that PDE")


# --- main ----------------------------------------------------------------------------------

def load():
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdes", default=",".join(PROBLEMS), help="comma list of " + ", ".join(PROBLEMS))
    ap.add_argument("--methods", default="deepxde,torch_nested")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100, help="first steps left out of ms_per_step")
    ap.add_argument("--window", type=int, default=50, help="steps per timed window")
    ap.add_argument("--eval-every", type=int, default=250, help="steps between relative L2 evaluations")
    ap.add_argument("--resample", action="store_true", help="fresh collocation points every step (see the doc)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--csv", help="write pde, method, steps, ms_per_step, rel_l2, seconds_total, ... here")
    ap.add_argument("--curve", help="write pde, method, step, seconds, rel_l2 here (error against wall time)")
    ap.add_argument("--check", action="store_true", help="only check the exact solutions' residuals (float64)")
    ap.add_argument("--report", nargs="+", help="print the table of these --csv / --curve files and exit")
    args = ap.parse_args()
    if args.report:
        report(args.report)
        return
    torch.set_num_threads(args.threads)
    pdes = [s for s in args.pdes.split(",") if s]
    if args.check:
        check(pdes, args.seed)
        return
    methods = [s for s in args.methods.split(",") if s]
    points = "resampled every step" if args.resample else "fixed (drawn once)"
    versions = f"torch {torch.__version__}"
    if "deepxde" in methods:
        versions += f", deepxde {import_deepxde().__version__}"
    print(f"PINN anchors: {versions}, float32, {torch.get_num_threads()} thread(s), {args.steps} steps, "
          f"collocation points {points}; ms/step = median of {args.window}-step window means after "
          f"{args.warmup} warm-up steps; load {load()}")
    rows, curve_rows = [], []
    for name in pdes:
        p = PROBLEMS[name]
        for method in methods:
            curve = []
            load_before = load()
            run = run_deepxde if method == "deepxde" else run_torch_nested
            durations, err, counts, net_rows = run(p, args, curve)
            ms, windows = step_stats(durations, args.warmup, args.window)
            total = sum(durations)
            print(f"{name:13s} {method:13s} {ms:8.2f} ms/step  rel L2 {err:.3e}  {total:7.1f} s total  "
                  f"[{counts}; {net_rows} network rows/step; {windows} windows; load {load_before} -> {load()}]")
            rows.append({"pde": name, "method": method, "steps": args.steps, "ms_per_step": f"{ms:.4f}",
                         "rel_l2": f"{err:.6e}", "seconds_total": f"{total:.3f}",
                         "points": "resample" if args.resample else "fixed", "net_rows": net_rows,
                         "threads": torch.get_num_threads(), "load": load_before})
            curve_rows += [{"pde": name, "method": method, "step": s, "seconds": f"{t:.4f}", "rel_l2": f"{e:.6e}"}
                           for s, t, e, _ in curve]
    write_rows(args.csv, rows)
    write_rows(args.curve, curve_rows)


if __name__ == "__main__":
    main()
