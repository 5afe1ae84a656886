"""The k-TV training step of bench/ktv_step.cpp written in JAX (the second anchor).

Same step: MLP 2-100-100-100-100-1 (sigmoid), a data batch of 256 with an MSE loss, the k-TV
penalty (q = 2, lambda = 1e-3, vol([0, 2pi]^2)) at M fresh uniform points of [0, 2pi]^2 for both
coordinates, Adam (optax when installed, else the same update written in jnp), the whole step one
jit-compiled function.  Three ways to get the pure partials d^k f / dx_j^k:
  * jet       jax.experimental.jet along e_j (Taylor mode, one series of order k per coordinate);
  * jvp       k nested jax.jvp along e_j (forward over forward);
  * gradgrad  nested reverse mode: grad of sum f gives all coordinates at order 1 (one backward),
              then k - 1 more grads of the j-th component (the only variant that shares work
              between coordinates; the analogue of Regula's reverse engine at k = 1).
One XLA thread: unless XLA_FLAGS is set, --threads 1 sets
"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" before jax is imported.
    ~/.cache/regula/bench-venv/bin/python bench/ktv_step_jax.py --orders 1,2 --threads 1 [--dtype float64]
Writes the same CSV columns as ktv_step / ktv_step_anchor.py (engine jax_jet, jax_jvp, jax_gradgrad).
"""
import argparse
import math
import os
import statistics
import sys
import time

VARIANTS = ("jet", "jvp", "gradgrad")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", default="1,2,3,4,5,6", help="orders k to time, e.g. 1,2,3")
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=0, help="1 = one XLA thread (sets XLA_FLAGS unless given)")
    p.add_argument("--budget", type=float, default=2.0)
    p.add_argument("--min-reps", type=int, default=3)
    p.add_argument("--max-reps", type=int, default=50)
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma list of " + ", ".join(VARIANTS))
    p.add_argument("--check", action="store_true", help="check that the variants agree (float64) and exit")
    p.add_argument("--csv", help="write the timings here")
    p.add_argument("--device", default="cpu", help="accepted for the driver; JAX runs on the CPU")
    args, _ = p.parse_known_args(argv)  # the driver passes the C++ options too
    return args


args = parse_args()
if args.threads == 1 and "XLA_FLAGS" not in os.environ:
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

if args.dtype == "float64" or args.check:
    jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
from jax.experimental import jet  # noqa: E402

from bench_csv import write_rows  # noqa: E402

try:
    import optax  # noqa: E402
except ImportError:  # the same update by hand
    optax = None

WIDTHS = [2, 100, 100, 100, 100, 1]
TWO_PI = 2 * math.pi


def init_params(key, dtype):
    params = []
    for i in range(len(WIDTHS) - 1):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1 / math.sqrt(WIDTHS[i])
        params.append((jax.random.uniform(kw, (WIDTHS[i + 1], WIDTHS[i]), dtype, -bound, bound),
                       jax.random.uniform(kb, (WIDTHS[i + 1],), dtype, -bound, bound)))
    return params


def mlp(params, x):
    for i, (w, b) in enumerate(params):
        x = x @ w.T + b
        if i + 1 < len(params):
            x = jax.nn.sigmoid(x)
    return x


def partials_jet(params, z, k):
    """[M, d, p] with jet: a series x(t) = z + t e_j of order k per coordinate j."""
    f = lambda x: mlp(params, x)  # noqa: E731
    out = []
    for j in range(z.shape[1]):
        e = jnp.zeros_like(z).at[:, j].set(1)
        zeros = jnp.zeros_like(z)
        _, series = jet.jet(f, (z,), ((e,) + (zeros,) * (k - 1),))
        out.append(series[k - 1])  # jet's terms are derivatives: the k-th is d^k f / dt^k
    return jnp.stack(out, 1)


def partials_jvp(params, z, k):
    """[M, d, p] with k nested forward-mode jvps along e_j."""
    out = []
    for j in range(z.shape[1]):
        e = jnp.zeros_like(z).at[:, j].set(1)
        g = lambda x: mlp(params, x)  # noqa: E731
        for _ in range(k):
            g = (lambda h: lambda x: jax.jvp(h, (x,), (e,))[1])(g)
        out.append(g(z))
    return jnp.stack(out, 1)


def partials_gradgrad(params, z, k):
    """[M, d, p] with nested reverse mode (one grad per order; order 1 gives every coordinate)."""
    p = WIDTHS[-1]
    per_output = []
    for o in range(p):
        first = jax.grad(lambda x: mlp(params, x)[:, o].sum())  # [M, d]: all coordinates at once
        if k == 1:
            per_output.append(first(z))
            continue
        cols = []
        for j in range(z.shape[1]):
            h = lambda x: first(x)[:, j]  # noqa: E731
            for _ in range(k - 1):
                h = (lambda hh: lambda x: jax.grad(lambda y: hh(y).sum())(x)[:, j])(h)
            cols.append(h(z))
        per_output.append(jnp.stack(cols, 1))
    return jnp.stack(per_output, 2)


PARTIALS = {"jet": partials_jet, "jvp": partials_jvp, "gradgrad": partials_gradgrad}


def adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    if optax is not None:
        return optax.adam(lr, b1, b2, eps)

    class Adam:
        @staticmethod
        def init(params):
            zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
            return (jnp.zeros((), jnp.int32), zeros, zeros)

        @staticmethod
        def update(grads, state, params=None):
            t, m, v = state
            t = t + 1
            m = jax.tree_util.tree_map(lambda m_, g: b1 * m_ + (1 - b1) * g, m, grads)
            v = jax.tree_util.tree_map(lambda v_, g: b2 * v_ + (1 - b2) * g * g, v, grads)
            c1, c2 = 1 - b1**t, 1 - b2**t
            upd = jax.tree_util.tree_map(lambda m_, v_: -lr * (m_ / c1) / (jnp.sqrt(v_ / c2) + eps), m, v)
            return upd, (t, m, v)

    return Adam()


def make_step(variant, k, samples, dtype, opt):
    partials = PARTIALS[variant]
    volume = TWO_PI**2

    def loss_fn(params, x, y, z):
        d = partials(params, z, k)
        penalty = 1e-3 * volume * jnp.square(d).sum((1, 2)).mean()
        return jnp.square(mlp(params, x) - y).mean() + penalty

    @jax.jit
    def step(params, opt_state, key, x, y):
        key, sub = jax.random.split(key)
        z = TWO_PI * jax.random.uniform(sub, (samples, 2), dtype)
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y, z)
        updates, opt_state = opt.update(grads, opt_state, params)
        params = jax.tree_util.tree_map(lambda p_, u: p_ + u, params, updates)
        return params, opt_state, key, loss

    return step


def time_case(variant, k, args, dtype):
    key = jax.random.PRNGKey(0)
    key, kp, kx = jax.random.split(key, 3)
    params = init_params(kp, dtype)
    x = TWO_PI * jax.random.uniform(kx, (args.batch, 2), dtype)
    y = (jnp.sin(2 * x[:, 0]) * jnp.cos(2 * x[:, 1]))[:, None]
    opt = adam()
    opt_state = opt.init(params)
    step = make_step(variant, k, args.samples, dtype, opt)
    t0 = time.perf_counter()
    params, opt_state, key, loss = step(params, opt_state, key, x, y)  # compile + warm-up
    jax.block_until_ready(loss)
    compile_s = time.perf_counter() - t0
    times = []
    start = time.perf_counter()
    while len(times) < args.max_reps:
        t0 = time.perf_counter()
        params, opt_state, key, loss = step(params, opt_state, key, x, y)
        jax.block_until_ready((params, loss))
        t1 = time.perf_counter()
        times.append(1e3 * (t1 - t0))
        if len(times) >= args.min_reps and t1 - start > args.budget:
            break
    return statistics.median(times), min(times), len(times), compile_s


def check(orders):
    """The three variants give the same partials (float64), against a closed-form-free reference."""
    key = jax.random.PRNGKey(1)
    params = init_params(key, jnp.float64)
    z = TWO_PI * jax.random.uniform(jax.random.PRNGKey(2), (8, 2), jnp.float64)
    ok = True
    for k in orders:
        ref = partials_jvp(params, z, k)
        for v in ("jet", "gradgrad"):
            err = float(jnp.abs(PARTIALS[v](params, z, k) - ref).max() / (jnp.abs(ref).max() + 1e-300))
            print(f"k={k} {v} vs jvp: max rel error {err:.2e}")
            ok = ok and err < 1e-10
    return ok


def main():
    orders = [int(v) for v in args.orders.split(",")]
    if args.check:
        sys.exit(0 if check(orders) else 1)
    dtype = jnp.float64 if args.dtype == "float64" else jnp.float32
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        if v not in PARTIALS:
            sys.exit(f"error: unknown variant '{v}' (valid: {', '.join(VARIANTS)})")
    print(f"JAX anchor: jax {jax.__version__}, {args.dtype}, optax {'yes' if optax else 'no (jnp Adam)'}, "
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    rows = []
    for k in orders:
        for v in variants:
            med, best, reps, compile_s = time_case(v, k, args, dtype)
            rows.append({"order": k, "engine": "jax_" + v, "median_ms": med, "min_ms": best, "reps": reps,
                         "dtype": args.dtype})
            print(f"  k={k} {v}: {med:.2f} ms (compile {compile_s:.1f} s)", flush=True)
    write_rows(args.csv, rows)


if __name__ == "__main__":
    main()
