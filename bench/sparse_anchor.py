"""Python anchors for bench/bench_sparse.cpp: the same diagonal-network GD
update written with NumPy, PyTorch (same torch wheel as LibTorch) and JAX (jit, lax.fori_loop).

    u <- u - eta N u^(N-1) g,  v <- v + eta N v^(N-1) g,  g = 2 X^T (X w - y) / n

Prints `key value` lines (numpy_single_its, torch_single_its, jax_single_its, numpy_batched_cps,
torch_batched_cps, jax_batched_cps, torch_sequential_cps, jax_sequential_cps) for the libraries
named in --libs (those importable), and `# ...` lines saying which BLAS kernel ran.  Run it
through bench/run_sparse.py, which sets one thread and unsets OPENBLAS_CORETYPE/L2_SIZE."""
import argparse
import os
import sys
import time

import numpy as np

try:  # the PyTorch anchor runs in the project's torch venv, NumPy and JAX in the bench venv
    import torch
except ImportError:
    torch = None


def problem(n, d, k, seed, dtype):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(n, d)).astype(dtype) * 2 - 1
    w = np.zeros(d, dtype)
    w[:k] = 1
    y = X @ w + 0.5 * rng.standard_normal(n).astype(dtype)
    return X, y


def rate(step, iters):
    """Iterations per second of step() after 5 warm-up calls."""
    for _ in range(5):
        step()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    return iters / (time.perf_counter() - t0)


def numpy_single(iters):
    X, y = problem(500, 10000, 5, 0, np.float64)
    n = X.shape[0]
    u = np.full(X.shape[1], 1e-3)
    v = u.copy()
    eta, N = 1e-3, 2
    def step():
        nonlocal u, v
        w = u ** N - v ** N
        g = 2.0 * (X.T @ (X @ w - y)) / n
        u_new = u - eta * N * u ** (N - 1) * g
        v = v + eta * N * v ** (N - 1) * g
        u = u_new
    return rate(step, iters)


def torch_single(iters):
    X, y = (torch.from_numpy(a) for a in problem(500, 10000, 5, 0, np.float64))
    n = X.shape[0]
    u = torch.full((X.shape[1],), 1e-3, dtype=torch.float64)
    v = u.clone()
    eta, N = 1e-3, 2
    def step():
        w = u.pow(N) - v.pow(N)
        g = (X.T @ (X @ w - y)) * (2.0 / n)
        s = g * (eta * N)
        pu, pv = u.pow(N - 1), v.pow(N - 1)
        u.sub_(s * pu)
        v.add_(s * pv)
    with torch.no_grad():
        return rate(step, iters)


def sweep_setup(lib):
    """32 problems (n = 100, d = 200) x depths {2,3,4,5} x w0 {1e-5, 1e-4}, float32."""
    Xs, ys = zip(*(problem(100, 200, 5, s, np.float32) for s in range(32)))
    depth = np.repeat(np.array([2, 3, 4, 5], np.float32), 2)
    w0 = np.tile(np.array([1e-5, 1e-4], np.float32), 4)
    alpha = w0 ** (1 / depth)
    X, y = np.stack(Xs), np.stack(ys)[:, None, :]
    if lib == "torch":
        return (torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(depth).view(1, 8, 1),
                torch.from_numpy(alpha).view(1, 8, 1))
    return X, y, depth.reshape(1, 8, 1), alpha.reshape(1, 8, 1)


def batched(lib, steps):
    X, y, depth, alpha = sweep_setup(lib)
    eta, n = 1e-2, X.shape[1]
    if lib == "torch":
        u = alpha.expand(32, 8, 200).contiguous()
        v = u.clone()
        Xt = X.transpose(1, 2)
        t0 = time.perf_counter()
        with torch.no_grad():
            for _ in range(steps):
                pu, pv = u.pow(depth - 1), v.pow(depth - 1)
                w = u * pu - v * pv
                g = torch.matmul(torch.matmul(w, Xt) - y, X) * (2.0 / n)
                s = g * (eta * depth)
                u.sub_(s * pu)
                v.add_(s * pv)
        return 256 / (time.perf_counter() - t0)
    u = np.broadcast_to(alpha, (32, 8, 200)).copy()
    v = u.copy()
    Xt = X.transpose(0, 2, 1)
    t0 = time.perf_counter()
    for _ in range(steps):
        pu, pv = u ** (depth - 1), v ** (depth - 1)
        w = u * pu - v * pv
        g = np.matmul(np.matmul(w, Xt) - y, X) * (2.0 / n)
        s = g * (eta * depth)
        u = u - s * pu
        v = v + s * pv
    return 256 / (time.perf_counter() - t0)


def torch_sequential(steps):
    X, y, depth, alpha = sweep_setup("torch")
    eta, n = 1e-2, X.shape[1]
    t0 = time.perf_counter()
    with torch.no_grad():
        for p in range(32):
            Xp, yp, Xpt = X[p], y[p, 0], X[p].T.contiguous()
            for c in range(8):
                N, a = float(depth[0, c, 0]), float(alpha[0, c, 0])
                u = torch.full((200,), a)
                v = u.clone()
                for _ in range(steps):
                    pu, pv = u.pow(N - 1), v.pow(N - 1)
                    w = u * pu - v * pv
                    g = (Xpt @ (Xp @ w - yp)) * (2.0 / n)
                    s = g * (eta * N)
                    u.sub_(s * pu)
                    v.add_(s * pv)
    return 256 / (time.perf_counter() - t0)


def jax_single(iters):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    X, y = (jnp.asarray(a) for a in problem(500, 10000, 5, 0, np.float64))
    n = X.shape[0]
    eta, N = 1e-3, 2

    def step(_, state):
        u, v = state
        w = u ** N - v ** N
        g = (X.T @ (X @ w - y)) * (2.0 / n)
        s = g * (eta * N)
        return u - s * u ** (N - 1), v + s * v ** (N - 1)

    run = jax.jit(lambda u, v, k: jax.lax.fori_loop(0, k, step, (u, v)))
    u = jnp.full(X.shape[1], 1e-3)
    jax.block_until_ready(run(u, u, iters))  # compile (k is traced: one compilation)
    t0 = time.perf_counter()
    jax.block_until_ready(run(u, u, iters))
    return iters / (time.perf_counter() - t0)


def jax_sweep(steps, batched):
    import jax
    import jax.numpy as jnp
    X, y, depth, alpha = (jnp.asarray(a) for a in sweep_setup("numpy"))
    eta, n = 1e-2, X.shape[1]
    Xt = jnp.swapaxes(X, 1, 2)

    def step(_, state):
        u, v, depth = state
        pu, pv = u ** (depth - 1), v ** (depth - 1)
        w = u * pu - v * pv
        if batched:
            g = jnp.matmul(jnp.matmul(w, Xt) - y, X) * (2.0 / n)
        else:
            g = (Xt[0] @ (X[0] @ w - y[0, 0])) * (2.0 / n)
        s = g * (eta * depth)
        return u - s * pu, v + s * pv, depth

    run = jax.jit(lambda u, v, dep, k: jax.lax.fori_loop(0, k, step, (u, v, dep))[0])
    if batched:
        u = jnp.broadcast_to(alpha, (32, 8, 200))
        jax.block_until_ready(run(u, u, depth, steps))
        t0 = time.perf_counter()
        jax.block_until_ready(run(u, u, depth, steps))
        return 256 / (time.perf_counter() - t0)
    # One after another: a jitted loop per (problem, configuration); X[0] stands in for every
    # problem (same shapes, so one compilation, as a user's loop would reuse it).
    u = jnp.full((200,), 0.01, jnp.float32)
    jax.block_until_ready(run(u, u, jnp.float32(2), steps))
    t0 = time.perf_counter()
    for p in range(32):
        for c in range(8):
            a, N = alpha[0, c, 0], depth[0, c, 0]
            jax.block_until_ready(run(jnp.full((200,), a), jnp.full((200,), a), N, steps))
    return 256 / (time.perf_counter() - t0)


def blas_info():
    """Which BLAS and kernel NumPy runs (threadpoolctl), or why that is unknown."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["# numpy blas: unknown (threadpoolctl not installed)"]
    return [f"# numpy blas: {i.get('internal_api')} {i.get('version')} kernel {i.get('architecture')} "
            f"threads {i.get('num_threads')}" for i in threadpool_info() if i.get("user_api") == "blas"]


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("single_iters", type=int, nargs="?", default=300)
    ap.add_argument("steps", type=int, nargs="?", default=300)
    ap.add_argument("--libs", default="numpy,torch,jax")
    a = ap.parse_args(argv[1:])
    libs = a.libs.split(",")
    print(f"threads {os.environ.get('OMP_NUM_THREADS', 'unset')}")
    if "numpy" in libs:
        print("\n".join(blas_info()))
        for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            print(f"# {var}={os.environ.get(var, '(unset)')}")
        print(f"numpy_single_its {numpy_single(a.single_iters):.3f}")
        print(f"numpy_batched_cps {batched('numpy', a.steps):.3f}")
    if "torch" in libs:
        torch.set_flush_denormal(True)
        print(f"torch_single_its {torch_single(a.single_iters):.3f}")
        print(f"torch_batched_cps {batched('torch', a.steps):.3f}")
        print(f"torch_sequential_cps {torch_sequential(a.steps):.3f}")
    if "jax" in libs:
        import jax
        print(f"# jax {jax.__version__} on {jax.devices()[0].platform}")
        print(f"jax_single_its {jax_single(a.single_iters):.3f}")
        print(f"jax_batched_cps {jax_sweep(a.steps, True):.3f}")
        print(f"jax_sequential_cps {jax_sweep(a.steps, False):.3f}")


if __name__ == "__main__":
    main(sys.argv)
