"""torch.ops.regula (python/regula_ops.cpp) through python/regula_torch, against nested torch.autograd
in float64: values, parameter gradients (gradcheck and nested autograd), coordinate subsets, the
k-TV penalty against a plain-PyTorch formula, and the errors.  Run by ctest (label python):
REGULA_OPS_LIB=build/python/libregula_ops.so PYTHONPATH=python python -m unittest -v test_regula_torch
"""
import math
import unittest

import torch

import regula_torch

ORDERS = range(1, 7)


def nested_partials(model, z, coords, k):
    """D[m, s, o] by k nested torch.autograd.grad(create_graph=True) calls per coordinate and output."""
    cols = []
    for j in coords:
        x = z.detach().clone().requires_grad_(True)
        out = model(x)
        per_output = []
        for o in range(out.shape[1]):
            h = out[:, o]
            for _ in range(k):
                if not h.requires_grad:  # identically zero from here on (relu)
                    h = torch.zeros_like(h)
                    break
                (g,) = torch.autograd.grad(h.sum(), x, create_graph=True)
                h = g[:, j]
            per_output.append(h)
        cols.append(torch.stack(per_output, 1))
    return torch.stack(cols, 1)


def net(act, widths=(3, 7, 6, 2), seed=0):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(act())
    return torch.nn.Sequential(*layers).double()


ACTIVATIONS = {
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "softplus": lambda: torch.nn.Softplus(beta=2.0, threshold=20.0),
    "silu": torch.nn.SiLU,
    "gelu": torch.nn.GELU,
    "sin": regula_torch.Sin,
}


def grads(y, params):
    """dy/dparams, zeros for parameters y does not depend on (the output bias, for derivatives)."""
    gs = torch.autograd.grad(y, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for g, p in zip(gs, params)]


def rel_diff(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


class PurePartials(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(1)
        self.z = torch.rand(5, 3, dtype=torch.float64) * 2 - 1

    def test_values_equal_nested_autograd_for_every_order_and_activation(self):
        for name, act in ACTIVATIONS.items():
            model = net(act)
            for k in ORDERS:
                with self.subTest(activation=name, order=k):
                    got = regula_torch.pure_partials(model, self.z, k)
                    want = nested_partials(model, self.z, [0, 1, 2], k)
                    self.assertEqual(got.shape, (5, 3, 2))
                    self.assertLess(rel_diff(got, want), 1e-10)

    def test_parameter_gradients_equal_nested_autograd(self):
        for name in ("tanh", "sigmoid", "softplus", "gelu"):
            model = net(ACTIVATIONS[name])
            params = list(model.parameters())
            for k in ORDERS:
                with self.subTest(activation=name, order=k):
                    r = torch.randn(5, 3, 2, dtype=torch.float64)
                    got = grads((regula_torch.pure_partials(model, self.z, k) * r).sum(), params)
                    want = grads((nested_partials(model, self.z, [0, 1, 2], k) * r).sum(), params)
                    for g, w in zip(got, want):
                        self.assertLess(rel_diff(g, w), 1e-9)

    def test_gradcheck_of_the_op_with_respect_to_weights_and_biases(self):
        for name in ("tanh", "silu", "softplus"):
            model = net(ACTIVATIONS[name], widths=(2, 4, 3, 1))
            layers, weights, biases = regula_torch.layer_spec(model)
            n = len(weights)
            w0 = [w.detach().clone().requires_grad_(True) for w in weights + biases]
            coords = torch.tensor([1, 0])
            z = self.z[:, :2]
            for k in ORDERS:
                engines = ("taylor", "reverse") if k == 1 else ("taylor",)
                for engine in engines:
                    with self.subTest(activation=name, order=k, engine=engine):
                        def f(*ps):
                            return torch.ops.regula.pure_partials(z, coords, k, list(ps[:n]), list(ps[n:]), layers, engine)
                        self.assertTrue(torch.autograd.gradcheck(f, w0, eps=1e-6, atol=1e-6, rtol=1e-5))

    def test_engines_agree_at_order_one(self):
        model = net(torch.nn.Tanh)
        want = nested_partials(model, self.z, [0, 1, 2], 1)
        for engine in ("auto", "taylor", "reverse"):
            with self.subTest(engine=engine):
                self.assertLess(rel_diff(regula_torch.pure_partials(model, self.z, 1, engine=engine), want), 1e-12)

    def test_a_coordinate_subset_gives_those_columns_in_that_order(self):
        model = net(torch.nn.Sigmoid)
        for k in (1, 2, 5):
            with self.subTest(order=k):
                got = regula_torch.pure_partials(model, self.z, k, coords=[2, 0])
                self.assertEqual(got.shape, (5, 2, 2))
                self.assertLess(rel_diff(got, nested_partials(model, self.z, [2, 0], k)), 1e-10)

    def test_relu_and_a_linear_without_bias(self):
        torch.manual_seed(3)
        model = torch.nn.Sequential(torch.nn.Linear(3, 5, bias=False), torch.nn.ReLU(), torch.nn.Linear(5, 1)).double()
        for k in (1, 2):
            with self.subTest(order=k):
                got = regula_torch.pure_partials(model, self.z, k)
                self.assertLess((got - nested_partials(model, self.z, [0, 1, 2], k)).abs().max().item(), 1e-12)
        self.assertGreater(regula_torch.pure_partials(model, self.z, 1).abs().max().item(), 0.0)

    def test_float32_is_close_to_float64(self):
        model = net(torch.nn.Tanh)
        want = regula_torch.pure_partials(model, self.z, 3)
        got = regula_torch.pure_partials(model.float(), self.z.float(), 3)
        self.assertEqual(got.dtype, torch.float32)
        self.assertLess(rel_diff(got.double(), want), 1e-4)


class Penalty(unittest.TestCase):
    def reference(self, model, z, k, low, high, q, lam, coords):
        d = z.shape[1]
        vol = math.prod(h - l for l, h in zip(low, high))
        D = nested_partials(model, z, coords, k)
        return lam * vol * (d / len(coords)) * D.abs().pow(q).sum((1, 2)).mean()

    def test_penalty_and_its_gradient_equal_plain_pytorch(self):
        torch.manual_seed(2)
        low, high = [0.0, -1.0, 0.5], [2.0, 1.0, 3.5]
        z = torch.tensor(low) + torch.tensor([h - l for l, h in zip(low, high)]) * torch.rand(6, 3)
        z = z.double()
        for name, q, coords, k in (("tanh", 2.0, [0, 1, 2], 2), ("silu", 1.5, [1], 3), ("sigmoid", 1.0, [2, 0], 1),
                                   ("gelu", 2.0, [0, 2], 6)):
            with self.subTest(activation=name, power=q, coords=coords, order=k):
                model = net(ACTIVATIONS[name])
                params = list(model.parameters())
                got = regula_torch.ktv_penalty(model, z, k, low, high, power=q, weight=0.3, coords=coords)
                want = self.reference(model, z, k, low, high, q, 0.3, coords)
                self.assertEqual(got.dim(), 0)
                self.assertIn("FusedKTV", got.grad_fn.name())  # the fused CPU pass (regularizers/ktv_fused.cpp)
                self.assertLess(rel_diff(got, want), 1e-10)
                for g, w in zip(grads(got, params), grads(want, params)):
                    self.assertLess(rel_diff(g, w), 1e-9)

    def test_one_interval_is_used_for_every_coordinate(self):
        model = net(torch.nn.Tanh)
        z = torch.rand(4, 3, dtype=torch.float64) * 2
        a = regula_torch.ktv_penalty(model, z, 2, 0.0, 2.0)
        b = regula_torch.ktv_penalty(model, z, 2, [0.0] * 3, [2.0] * 3)
        self.assertAlmostEqual(a.item(), b.item(), places=12)
        self.assertAlmostEqual(a.item(), self.reference(model, z, 2, [0.0] * 3, [2.0] * 3, 2.0, 1.0, [0, 1, 2]).item(),
                               places=10)

    def test_ktv_draws_points_in_the_box_and_trains(self):
        model = net(torch.nn.Tanh, widths=(2, 8, 1))
        ktv = regula_torch.KTV(order=2, low=0.0, high=2 * math.pi, samples=64, weight=1e-2, coordinates=1)
        torch.manual_seed(0)
        pen = ktv(model)
        pen.backward()
        # every parameter but the output bias (derivatives do not see it) gets a gradient
        for name, p in list(model.named_parameters())[:-1]:
            self.assertGreater(p.grad.abs().sum().item(), 0.0, name)
        # all coordinates: the same draw as ktv_penalty at the same seed
        full = regula_torch.KTV(order=3, low=[0.0, 1.0], high=[1.0, 3.0], samples=16, weight=0.5)
        torch.manual_seed(4)
        a = full(model)
        torch.manual_seed(4)
        z = torch.tensor([0.0, 1.0]).double() + torch.tensor([1.0, 2.0]).double() * torch.rand(16, 2, dtype=torch.float64)
        b = regula_torch.ktv_penalty(model, z, 3, [0.0, 1.0], [1.0, 3.0], weight=0.5)
        self.assertAlmostEqual(a.item(), b.item(), places=12)


class Errors(unittest.TestCase):
    def setUp(self):
        self.z = torch.rand(4, 3, dtype=torch.float64)

    def assert_value_error(self, text, fn):
        with self.assertRaises(ValueError) as cm:
            fn()
        self.assertIn(text, str(cm.exception))

    def test_unsupported_modules_name_the_layer(self):
        elu = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ELU(), torch.nn.Linear(4, 1)).double()
        self.assert_value_error("layer 1 (ELU)", lambda: regula_torch.pure_partials(elu, self.z, 2))
        gelu = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU(approximate="tanh"), torch.nn.Linear(4, 1))
        self.assert_value_error("approximate='tanh'", lambda: regula_torch.pure_partials(gelu.double(), self.z, 2))
        self.assert_value_error("nn.Sequential", lambda: regula_torch.pure_partials(torch.nn.Linear(3, 1), self.z, 1))

    def test_the_op_checks_its_arguments(self):
        model = net(torch.nn.Tanh)
        self.assert_value_error("has a Float parameter", lambda: regula_torch.pure_partials(model.float(), self.z, 2))
        model = net(torch.nn.Tanh)
        self.assert_value_error("first derivatives only", lambda: regula_torch.pure_partials(model, self.z, 2, engine="reverse"))
        self.assert_value_error("auto, taylor, reverse", lambda: regula_torch.pure_partials(model, self.z, 2, engine="jet"))
        self.assert_value_error("coords must lie in [0, 3)", lambda: regula_torch.pure_partials(model, self.z, 2, coords=[3]))
        self.assert_value_error("order must be >= 1", lambda: regula_torch.pure_partials(model, self.z, 0))
        self.assert_value_error("points have 2 coordinates", lambda: regula_torch.pure_partials(model, self.z[:, :2], 1))
        self.assert_value_error("domain", lambda: regula_torch.ktv_penalty(model, self.z, 2, 1.0, 0.0))
        self.assert_value_error("'power' = 0.5", lambda: regula_torch.ktv_penalty(model, self.z, 2, 0.0, 1.0, power=0.5))
        layers, weights, biases = regula_torch.layer_spec(model)
        self.assert_value_error("layer 1 is 'elu'", lambda: torch.ops.regula.pure_partials(
            self.z, torch.arange(3), 1, weights, biases, ["linear", "elu", "linear", "tanh", "linear"], "auto"))
        swapped = [0, 2, 1]
        self.assert_value_error("layer 1 expects 6 inputs but gets 7", lambda: torch.ops.regula.pure_partials(
            self.z, torch.arange(3), 1, [weights[i] for i in swapped], [biases[i] for i in swapped],
            ["linear", "linear", "linear"], "auto"))


@unittest.skipUnless(torch.cuda.is_available(), "no CUDA device")
class Gpu(unittest.TestCase):
    def test_cuda_equals_cpu_values_and_gradients(self):
        torch.manual_seed(5)
        z = torch.rand(64, 3, dtype=torch.float64)
        for name in ("tanh", "softplus", "gelu"):
            cpu = net(ACTIVATIONS[name])
            gpu = net(ACTIVATIONS[name]).cuda()
            for k in (1, 2, 4, 6):
                with self.subTest(activation=name, order=k):
                    a = regula_torch.ktv_penalty(cpu, z, k, 0.0, 1.0, coords=[0, 2])
                    b = regula_torch.ktv_penalty(gpu, z.cuda(), k, 0.0, 1.0, coords=[0, 2])
                    self.assertLess(rel_diff(b.cpu(), a), 1e-10)
                    ga = grads(a, list(cpu.parameters()))
                    gb = grads(b, list(gpu.parameters()))
                    for x, y in zip(ga, gb):
                        self.assertLess(rel_diff(y.cpu(), x), 1e-9)

    def test_float32_step_on_cuda(self):
        model = net(torch.nn.Tanh, widths=(2, 32, 32, 1)).float().cuda()
        ktv = regula_torch.KTV(order=4, low=0.0, high=1.0, samples=1024)
        pen = ktv(model)
        pen.backward()
        self.assertTrue(torch.isfinite(pen).item())
        self.assertEqual(pen.device.type, "cuda")


if __name__ == "__main__":
    unittest.main()
