"""How closely deepgrad follows PyTorch: ``make parity`` prints the largest differences and
rewrites ``PARITY.md``. The tests assert tolerances; this script reports the numbers behind them.

1. Every op of the test registry (tests/op_registry.py): forward values and input gradients
   on drawn inputs, in float64 and float32.
2. Layers and losses of ``deepgrad.nn``: forward and every gradient from the same weights.
3. Training trajectories: the course's MLP and CNN with every optimiser of the course, from
   the same weights on the same Fashion-MNIST batches (float64 and float32), loss by loss.

Differences are relative: max |deepgrad - torch| / max(|torch|), per tensor.

    python benchmarks/parity.py [--samples 20] [--steps 50]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

import deepgrad

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))


def rel(a, b) -> float:
    a = np.asarray(a._data if isinstance(a, deepgrad.Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach().numpy() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    scale = max(np.abs(b).max(initial=0.0), 1e-30)
    return float(np.abs(a - b).max(initial=0.0) / scale)


# ------------------------------------------------------------------------------- 1. ops
def op_parity(samples: int):
    from hypothesis.errors import NonInteractiveExampleWarning

    from op_registry import OPS

    warnings.simplefilter("ignore", NonInteractiveExampleWarning)
    rows = []
    for op in OPS:
        worst = {np.float64: [0.0, 0.0], np.float32: [0.0, 0.0]}  # forward, gradient
        for s in range(samples):
            arrays, kwargs = op.sample(lambda strategy: strategy.example())
            for dtype in worst:
                if dtype not in op.dtypes:
                    continue
                # as tests/ops/test_ops.py: float inputs in the dtype, indices and masks as
                # drawn; gradients for the float inputs the entry checks (``grad_inputs``)
                cast = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
                grad = [
                    op.differentiable
                    and a.dtype.kind == "f"
                    and (op.grad_inputs is None or i in op.grad_inputs)
                    for i, a in enumerate(arrays)
                ]
                xs = [deepgrad.tensor(a, requires_grad=g) for a, g in zip(cast, grad)]
                ts = [torch.tensor(a, requires_grad=g) for a, g in zip(cast, grad)]
                out, expected = op.dg(*xs, **kwargs), op.th(*ts, **kwargs)
                worst[dtype][0] = max(worst[dtype][0], rel(out, expected))
                if op.differentiable and expected.requires_grad:
                    up = np.random.default_rng(s).standard_normal(expected.shape).astype(dtype)
                    out.backward(deepgrad.tensor(up))
                    expected.backward(torch.from_numpy(up))
                    for x, t in zip(xs, ts):
                        if t.requires_grad and t.grad is not None:
                            worst[dtype][1] = max(worst[dtype][1], rel(x.grad, t.grad))
        rows.append((op.name, *worst[np.float64], *worst[np.float32], op.differentiable))
    return rows


# ------------------------------------------------------------------------ 2. nn layers
def layer_cases():
    """(name, builder(lib) -> module, input shape, target kind)."""
    return [
        ("Linear", lambda nn: nn.Linear(20, 7), (16, 20)),
        ("Conv2d 5x5 pad 2", lambda nn: nn.Conv2d(3, 8, 5, padding=2), (4, 3, 12, 12)),
        (
            "Conv2d stride 2 dil 2 groups 2",
            lambda nn: nn.Conv2d(4, 6, 3, 2, 1, 2, 2),
            (2, 4, 13, 11),
        ),
        ("MaxPool2d(2)", lambda nn: nn.MaxPool2d(2), (4, 3, 12, 12)),
        ("MaxPool2d(3, 2, 1)", lambda nn: nn.MaxPool2d(3, 2, 1), (4, 3, 11, 11)),
        ("AvgPool2d(3, 2, 1)", lambda nn: nn.AvgPool2d(3, 2, 1), (4, 3, 11, 11)),
        ("AdaptiveAvgPool2d(1)", lambda nn: nn.AdaptiveAvgPool2d(1), (4, 3, 7, 7)),
        ("BatchNorm1d (train)", lambda nn: nn.BatchNorm1d(10), (32, 10)),
        ("BatchNorm2d (train)", lambda nn: nn.BatchNorm2d(3), (8, 3, 6, 6)),
        ("Dropout (eval)", lambda nn: nn.Dropout(0.5).eval(), (8, 10)),
        *[
            (act, (lambda a: lambda nn: getattr(nn, a)())(act), (16, 20))
            for act in [
                "Sigmoid",
                "Tanh",
                "ReLU",
                "LeakyReLU",
                "ELU",
                "Softsign",
                "Softplus",
                "GELU",
                "SiLU",
            ]
        ],  # fmt: skip
        ("Softmax(dim=1)", lambda nn: nn.Softmax(dim=1), (16, 20)),
        ("LogSoftmax(dim=1)", lambda nn: nn.LogSoftmax(dim=1), (16, 20)),
    ]


def loss_cases():
    """(name, builder(lib) -> loss, prediction shape, target kind)."""
    return [
        ("MSELoss", lambda nn: nn.MSELoss(), (16, 5), "real"),
        ("L1Loss", lambda nn: nn.L1Loss(), (16, 5), "real"),
        ("BCELoss", lambda nn: nn.BCELoss(), (16, 5), "prob"),
        ("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(), (16, 5), "binary"),
        ("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), (16, 5), "class"),
        ("CrossEntropyLoss(label_smoothing=0.1)",
         lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1), (16, 5), "class"),
        ("CrossEntropyLoss, logits +-1e4", lambda nn: nn.CrossEntropyLoss(), (16, 5), "class-huge"),
        ("NLLLoss", lambda nn: nn.NLLLoss(), (16, 5), "class"),
        ("MultiMarginLoss (hinge)", lambda nn: nn.MultiMarginLoss(), (16, 5), "class"),
        ("KLDivLoss(batchmean)",
         lambda nn: nn.KLDivLoss(reduction="batchmean"), (16, 5), "logprob"),
    ]  # fmt: skip


def layer_parity():
    rows = []
    rng = np.random.default_rng(0)
    for name, build, shape in layer_cases():
        for dtype in (np.float64, np.float32):
            torch.manual_seed(0)
            tm = build(torch.nn).to(torch.float64 if dtype == np.float64 else torch.float32)
            dm = build(deepgrad.nn).to(
                deepgrad.float64 if dtype == np.float64 else deepgrad.float32
            )
            dm.load_state_dict(
                {k: deepgrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
            )
            x = rng.standard_normal(shape).astype(dtype)
            xd, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            yd, yt = dm(xd), tm(xt)
            up = rng.standard_normal(tuple(yt.shape)).astype(dtype)
            yd.backward(deepgrad.tensor(up))
            yt.backward(torch.from_numpy(up))
            errs = [rel(yd, yt), rel(xd.grad, xt.grad)]
            tparams = dict(tm.named_parameters())
            errs += [rel(p.grad, tparams[k].grad) for k, p in dm.named_parameters()]
            rows.append((name, dtype.__name__, errs[0], max(errs[1:])))
    for name, build, shape, kind in loss_cases():
        for dtype in (np.float64, np.float32):
            x = rng.standard_normal(shape).astype(dtype)
            if kind == "class-huge":
                x = np.where(rng.random(shape) < 0.5, 1e4, -1e4).astype(dtype)
            if kind == "prob":
                x = 1 / (1 + np.exp(-x))
            if kind == "logprob":
                x = x - np.log(np.exp(x).sum(1, keepdims=True))
            if kind.startswith("class"):
                y = rng.integers(0, shape[1], shape[0])
            elif kind == "logprob":
                y = rng.dirichlet(np.ones(shape[1]), shape[0]).astype(dtype)
            elif kind in ("prob", "binary"):
                y = (rng.random(shape) < 0.5).astype(dtype)
            else:
                y = rng.standard_normal(shape).astype(dtype)
            xd, xt = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            ld, lt = (
                build(deepgrad.nn)(xd, deepgrad.tensor(y)),
                build(torch.nn)(xt, torch.tensor(y)),
            )
            ld.backward()
            lt.backward()
            rows.append((name, dtype.__name__, rel(ld, lt), rel(xd.grad, xt.grad)))
    return rows


# ------------------------------------------------------------------- 3. trajectories
OPTIMIZERS = {
    "SGD": lambda o, p: o.SGD(p, lr=0.05),
    "SGD momentum 0.9": lambda o, p: o.SGD(p, lr=0.01, momentum=0.9),
    "SGD Nesterov + weight decay":
        lambda o, p: o.SGD(p, lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adagrad": lambda o, p: o.Adagrad(p, lr=0.01),
    "RMSprop": lambda o, p: o.RMSprop(p, lr=1e-3),
    "Adam": lambda o, p: o.Adam(p, lr=1e-3),
    "AdamW": lambda o, p: o.AdamW(p, lr=1e-3),
    "Adamax": lambda o, p: o.Adamax(p, lr=2e-3),
}  # fmt: skip


def _losses(lib, model, dtype, make, xs, ys, steps, batch, init):
    """Per-step losses of one framework from the weights ``init`` (a torch state dict)."""
    from run import build

    m = build(lib, model)
    if lib is torch:
        m.load_state_dict(init)
    else:
        m.load_state_dict({k: deepgrad.tensor(v.numpy().copy()) for k, v in init.items()})
    m = m.to(getattr(lib, dtype.__name__))
    opt, loss_fn, losses = make(lib.optim, m.parameters()), lib.nn.CrossEntropyLoss(), []
    for s in range(steps):
        xb = xs[s * batch : (s + 1) * batch].astype(dtype)
        yb = ys[s * batch : (s + 1) * batch]
        opt.zero_grad()
        loss = loss_fn(m(lib.from_numpy(xb)), lib.from_numpy(yb))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), dict(m.named_parameters())


def trajectory_parity(steps: int):
    """Per model and optimiser: float64 deepgrad vs float64 torch, and both float32 runs
    against the float64 torch run (the reference), so float32 drift can be told apart from a
    difference in arithmetic."""
    from run import build, fashion_mnist

    x, y, _, _ = fashion_mnist(steps * 64)
    rows = []
    for model in ("mlp", "cnn"):
        xs = x if model == "cnn" else x.reshape(len(x), -1)
        for name, make in OPTIMIZERS.items():
            torch.manual_seed(0)
            init = {k: v.detach().clone() for k, v in build(torch, model).state_dict().items()}
            args = (make, xs, y, steps, 64, init)
            t64, tp = _losses(torch, model, np.float64, *args)
            d64, dp = _losses(deepgrad, model, np.float64, *args)
            t32, _ = _losses(torch, model, np.float32, *args)
            d32, _ = _losses(deepgrad, model, np.float32, *args)

            def drift(a, ref):
                return float(np.max(np.abs(a - ref) / np.abs(ref)))

            werr = max(rel(p, tp[k]) for k, p in dp.items())
            rows.append((model, name, drift(d64, t64), werr, drift(t32, t64), drift(d32, t64)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=20, help="drawn inputs per op")
    parser.add_argument("--steps", type=int, default=50, help="training steps per optimiser")
    parser.add_argument("--write", default=str(HERE / "PARITY.md"))
    opts = parser.parse_args()
    torch.set_num_threads(2)
    out = ["# deepgrad against PyTorch: the largest differences", ""]
    out += [f"Written by `make parity` (`benchmarks/parity.py`), PyTorch {torch.__version__}, "
            f"NumPy {np.__version__}. Relative difference: "
            "max |deepgrad - torch| / max |torch|.", ""]  # fmt: skip

    ops = op_parity(opts.samples)
    f64 = max(r[1] for r in ops), max(r[2] for r in ops)
    f32 = max(r[3] for r in ops), max(r[4] for r in ops)
    out += [f"## 1. Ops: {len(ops)} in the registry, {opts.samples} drawn inputs each", "",
            f"Worst over all ops: float64 forward {f64[0]:.1e}, gradient {f64[1]:.1e}; "
            f"float32 forward {f32[0]:.1e}, gradient {f32[1]:.1e}.", "",
            "| op | float64 forward | float64 grad | float32 forward | float32 grad |",
            "|---|---|---|---|---|"]  # fmt: skip
    for name, a, b, c, d, diff in ops:
        g64, g32 = (f"{b:.1e}", f"{d:.1e}") if diff else ("-", "-")
        out.append(f"| {name} | {a:.1e} | {g64} | {c:.1e} | {g32} |")
    print("\n".join(out[-len(ops) - 4 :]), flush=True)

    layers = layer_parity()
    out += ["", "## 2. Layers and losses (forward; worst gradient of input and parameters)", "",
            "| module | dtype | forward | gradients |", "|---|---|---|---|"]  # fmt: skip
    out += [f"| {n} | {d} | {f:.1e} | {g:.1e} |" for n, d, f, g in layers]
    print("\n".join(out[-len(layers) :]), flush=True)

    traj = trajectory_parity(opts.steps)
    out += ["", f"## 3. Training trajectories: {opts.steps} steps of batch 64 on Fashion-MNIST, "
            "same initial weights", "",
            "Worst relative loss difference over the steps. float64: deepgrad against PyTorch, "
            "and the largest relative weight difference at the end. float32: each framework "
            "against PyTorch's float64 run. In float32 a ReLU input within rounding of 0 can "
            "fall on the other side in one framework, and from then on that unit's gradient "
            "differs, so a float32 run drifts from the float64 one; which framework drifts "
            "varies from case to case.", "",
            "| model | optimiser | float64 loss | float64 weights | torch float32 vs float64 "
            "| deepgrad float32 vs float64 |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    out += [f"| {m} | {o} | {a:.1e} | {b:.1e} | {c:.1e} | {d:.1e} |" for m, o, a, b, c, d in traj]
    print("\n".join(out[-len(traj) :]), flush=True)
    Path(opts.write).write_text("\n".join(out) + "\n")
    print(f"wrote {opts.write}")


if __name__ == "__main__":
    main()
