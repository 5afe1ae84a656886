"""Regula's k-TV penalty for PyTorch models: Taylor-mode input derivatives as a torch op.

    import regula_torch
    D = regula_torch.pure_partials(model, z, order=3)           # [M, S, p], d^3 f_o / dx_j^3
    pen = regula_torch.ktv_penalty(model, z, order=3, low=0.0, high=6.28, weight=1e-3)
    pen.backward()                                               # gradients reach model's parameters

`model` is an ``nn.Sequential`` of ``nn.Linear`` and the activations Regula's Taylor engine has
rules for (Tanh, Sigmoid, Softplus(beta, threshold), SiLU, GELU(approximate='none'), ReLU and
:class:`Sin`).  The computation is the C++ engine of regularizers/ (libregula_ops.so, loaded on
import: ``$REGULA_OPS_LIB``, else next to this package, else ``<repo>/$REGULA_BUILD_DIR/python`` or
``<repo>/build/python``), on the CPU or CUDA, in float32 or float64.  The ops themselves are
``torch.ops.regula.pure_partials`` and ``torch.ops.regula.ktv_penalty``.
"""
import math
import os
from pathlib import Path

import torch

__all__ = ["Sin", "KTV", "layer_spec", "pure_partials", "ktv_penalty", "library_path"]

_LIB_NAME = "libregula_ops.so"


def library_path():
    """Where libregula_ops.so is: $REGULA_OPS_LIB, next to this package, or in the build tree."""
    env = os.environ.get("REGULA_OPS_LIB")
    if env:
        if not Path(env).is_file():
            raise ImportError(f"regula_torch: REGULA_OPS_LIB={env} is not a file")
        return env
    here = Path(__file__).resolve().parent
    repo = here.parent.parent
    candidates = [here / _LIB_NAME]
    if os.environ.get("REGULA_BUILD_DIR"):
        candidates.append(repo / os.environ["REGULA_BUILD_DIR"] / "python" / _LIB_NAME)
    candidates.append(repo / "build" / "python" / _LIB_NAME)
    for c in candidates:
        if c.is_file():
            return str(c)
    raise ImportError(f"regula_torch: {_LIB_NAME} not found (looked in {', '.join(map(str, candidates))}); build it "
                      "with scripts/setup.sh (target regula_ops) or set REGULA_OPS_LIB to its path")


torch.ops.load_library(library_path())


class Sin(torch.nn.Module):
    """y = sin(x) as a module (torch has none), with a Taylor rule in Regula."""

    def forward(self, x):
        return torch.sin(x)


_SUPPORTED = "Linear, Tanh, Sigmoid, Softplus, SiLU, GELU(approximate='none'), ReLU, regula_torch.Sin"


def layer_spec(model):
    """(layers, weights, biases) of an nn.Sequential as the ops take them: layers names every
    module ("linear", "tanh", ..., "softplus:<beta>:<threshold>"), weights and biases hold each
    Linear's parameters (bias None when it has none).  ValueError naming the first unsupported module."""
    if not isinstance(model, torch.nn.Sequential):
        raise ValueError(f"regula_torch: the model must be an nn.Sequential of {_SUPPORTED}; got {type(model).__name__}")
    layers, weights, biases = [], [], []
    simple = {torch.nn.Tanh: "tanh", torch.nn.Sigmoid: "sigmoid", torch.nn.SiLU: "silu", torch.nn.ReLU: "relu", Sin: "sin"}
    for i, m in enumerate(model):
        kind = type(m)
        if kind is torch.nn.Linear:
            layers.append("linear")
            weights.append(m.weight)
            biases.append(m.bias)
        elif kind in simple:
            layers.append(simple[kind])
        elif kind is torch.nn.Softplus:
            layers.append(f"softplus:{float(m.beta)!r}:{float(m.threshold)!r}")
        elif kind is torch.nn.GELU:
            if m.approximate != "none":
                raise ValueError(f"regula_torch: layer {i} (GELU(approximate='{m.approximate}')) has no Taylor rule; "
                                 "only the exact GELU (approximate='none') has one")
            layers.append("gelu")
        else:
            raise ValueError(f"regula_torch: layer {i} ({kind.__name__}) has no Taylor rule; supported: {_SUPPORTED}")
    if not weights:
        raise ValueError("regula_torch: the model has no nn.Linear layer")
    return layers, weights, biases


def _coords(coords, d, device):
    if coords is None:
        return torch.arange(d, device=device)
    c = torch.as_tensor(coords, dtype=torch.long, device=device).reshape(-1)
    if c.numel() == 0:
        raise ValueError("regula_torch: coords is empty; give at least one coordinate (or None for all)")
    return c


def _check_points(points):
    if not isinstance(points, torch.Tensor) or points.dim() != 2 or not points.is_floating_point():
        raise ValueError("regula_torch: points must be a floating-point [M, d] tensor")


def pure_partials(model, points, order, coords=None, engine="auto"):
    """D[m, s, o] = d^k f_o / dx_{coords[s]}^k at points [M, d] (coords: None = all d, or a list /
    int64 tensor of coordinates), differentiable w.r.t. the model's parameters.  engine: auto
    (reverse mode at order 1 for few outputs, Taylor mode otherwise), taylor or reverse (order 1)."""
    _check_points(points)
    layers, weights, biases = layer_spec(model)
    c = _coords(coords, points.shape[1], points.device)
    return torch.ops.regula.pure_partials(points, c, int(order), weights, biases, layers, engine)


def ktv_penalty(model, points, order, low, high, power=2.0, weight=1.0, coords=None, engine="auto"):
    """weight * vol * (1/M) sum_m (d/|S|) sum_{j in S} sum_o |d^k f_o / dx_j^k (z_m)|^q (q = power) at
    the given points of the box [low, high] (numbers for every coordinate, or one per coordinate),
    as regularizers/ktv.h defines it: unbiased for weight * sum_o sum_j integral |d^k_j f_o|^q."""
    _check_points(points)
    layers, weights, biases = layer_spec(model)
    d = points.shape[1]
    c = _coords(coords, d, points.device)
    lo = [float(v) for v in (low if hasattr(low, "__len__") else [low])]
    hi = [float(v) for v in (high if hasattr(high, "__len__") else [high])]
    return torch.ops.regula.ktv_penalty(points, c, int(order), weights, biases, layers, float(power), float(weight),
                                        lo, hi, engine)


class KTV:
    """The k-TV regularizer with fresh points every call: M uniform points of [low, high] and, with
    coordinates = s > 0, s of the d coordinates drawn without replacement (0 = all).

        ktv = regula_torch.KTV(order=2, low=0.0, high=2 * math.pi, samples=1024, weight=1e-3)
        loss = data_loss + ktv(model)
    """

    def __init__(self, order, low, high, samples=256, power=2.0, weight=1e-3, coordinates=0, engine="auto"):
        if int(order) < 1:
            raise ValueError(f"regula_torch.KTV: order must be >= 1, got {order}")
        if int(samples) < 1:
            raise ValueError(f"regula_torch.KTV: samples must be >= 1, got {samples}")
        if int(coordinates) < 0:
            raise ValueError(f"regula_torch.KTV: coordinates must be 0 (all) or >= 1, got {coordinates}")
        self.order, self.samples, self.power, self.weight = int(order), int(samples), power, weight
        self.coordinates, self.engine = int(coordinates), engine
        self.low = list(low) if hasattr(low, "__len__") else [low]
        self.high = list(high) if hasattr(high, "__len__") else [high]
        if len(self.low) != len(self.high) or any(not (a < b and math.isfinite(a) and math.isfinite(b))
                                                   for a, b in zip(self.low, self.high)):
            raise ValueError(f"regula_torch.KTV: need finite low < high of the same length, got {low} and {high}")

    def __call__(self, model):
        first = layer_spec(model)[1][0]
        d = first.shape[1]
        lo = torch.tensor(self.low, dtype=first.dtype, device=first.device).expand(d)
        hi = torch.tensor(self.high, dtype=first.dtype, device=first.device).expand(d)
        z = lo + (hi - lo) * torch.rand(self.samples, d, dtype=first.dtype, device=first.device)
        coords = None
        if 0 < self.coordinates < d:
            coords = torch.randperm(d, device=first.device)[: self.coordinates]
        return ktv_penalty(model, z, self.order, self.low, self.high, self.power, self.weight, coords, self.engine)
