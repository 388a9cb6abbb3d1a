"""deepgrad on the GPU (``device="cuda"``) against PyTorch on the same GPU.

Oracle: PyTorch CUDA (PyTorch on the CPU where the installed PyTorch has no CUDA). Every test here
is marked ``cuda`` and skipped, with the reason, where ``deepgrad.cuda.is_available()`` is False:
that is every CI run and every development machine without an NVIDIA GPU and CuPy.
``benchmarks/gpu_check.sh`` runs them on a GPU machine. What can be tested without a GPU (the
device plumbing, the errors) is in ``test_device.py``.

Tolerances: float64 within 1e-12 (relative), float32 within 1e-5 relative (1e-6 absolute), as
the CPU tests; reductions and cuBLAS sum in another order than the CPU, nothing else differs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_optim import CASES, _ids
from test_optim_helpers import Pair, train

import deepgrad
import deepgrad.nn as dnn
from op_registry import OPS

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not deepgrad.cuda.is_available(),
        reason=f"no GPU for deepgrad: {deepgrad.cuda.unavailable_reason()}",
    ),
]

TDEV = "cuda" if torch.cuda.is_available() else "cpu"
# The oracle in full float32: no TF32 in PyTorch's products and convolutions (deepgrad has none)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
SETTINGS = settings(
    max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def host(x) -> np.ndarray:
    """A deepgrad (GPU) or torch tensor's values as a NumPy array (an explicit copy)."""
    if isinstance(x, deepgrad.Tensor):
        assert x.device.type == "cuda", f"expected a GPU tensor, got one on {x.device}"
        return x.detach().cpu().numpy()
    return x.detach().cpu().numpy()


def close(actual, expected, dtype=np.float32, **tol) -> None:
    a, e = host(actual), host(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    assert a.dtype == e.dtype, f"dtype {a.dtype} != {e.dtype}"
    tol = tol or dict(TOL[dtype])
    if dtype == np.float32 and e.size and e.dtype.kind == "f":
        # a float32 sum of many terms (a convolution) is off by ~eps * its largest terms, so a
        # near-zero output of large ones gets an absolute tolerance on the output's scale
        tol["atol"] = max(tol["atol"], 1e-6 * float(np.nanmax(np.abs(e), initial=0.0)))
    np.testing.assert_allclose(a, e, **tol)


def _inputs(arrays, dtype):
    dg, th = [], []
    for a in arrays:
        if a.dtype == np.bool_:
            dg.append(deepgrad.tensor(a, device="cuda"))
            th.append(torch.tensor(a, device=TDEV))
        else:
            dg.append(deepgrad.tensor(a.astype(dtype), device="cuda", requires_grad=True))
            th.append(torch.tensor(a.astype(dtype), device=TDEV, requires_grad=True))
    return dg, th


# ------------------------------------------------------------------------------ op registry
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("op", OPS, ids=[o.name for o in OPS])
@SETTINGS
@given(data=st.data())
def test_registry_op_matches_torch_cuda(op, dtype, data):
    arrays, kwargs = op.sample(data.draw)
    xs, ts = _inputs(arrays, dtype)
    out = op.dg(*xs, **kwargs)
    expected = op.th(*ts, **kwargs)
    close(out, expected, dtype)
    if not op.differentiable:
        return
    upstream = np.random.default_rng(1).standard_normal(expected.shape).astype(dtype)
    out.backward(deepgrad.tensor(upstream, device="cuda"))
    expected.backward(torch.tensor(upstream, device=TDEV))
    for x, t in zip(xs, ts):
        if t.requires_grad and t.grad is not None:
            close(x.grad, t.grad, dtype)


# ------------------------------------------------------------------------------ layers
def _twin(make_dg, make_th, dtype):
    """The same layer in both frameworks (torch's initial weights), both on the GPU."""
    torch.manual_seed(0)
    th = make_th().to(dtype=getattr(torch, np.dtype(dtype).name))
    dg = make_dg()
    dg.load_state_dict({k: v.detach().numpy().copy() for k, v in th.state_dict().items()})
    if dtype == np.float64:
        dg.double()
    return dg.to("cuda"), th.to(TDEV)


LAYERS = [
    ("Linear", lambda m: m.Linear(7, 5), (4, 7)),
    ("Linear-3d", lambda m: m.Linear(7, 5), (2, 3, 7)),
    ("Conv2d", lambda m: m.Conv2d(3, 4, 3), (2, 3, 9, 8)),
    ("Conv2d-pad-stride", lambda m: m.Conv2d(3, 4, 5, stride=2, padding=2), (2, 3, 11, 10)),
    ("Conv2d-dilation", lambda m: m.Conv2d(2, 3, 3, dilation=2, padding=1), (2, 2, 9, 9)),
    ("Conv2d-groups", lambda m: m.Conv2d(4, 6, 3, groups=2, bias=False), (2, 4, 7, 7)),
    ("Conv2d-same-even", lambda m: m.Conv2d(2, 3, 4, padding="same"), (2, 2, 8, 7)),
    ("Conv1d", lambda m: m.Conv1d(3, 4, 3, padding=1), (2, 3, 10)),
    ("MaxPool2d", lambda m: m.MaxPool2d(2), (2, 3, 8, 8)),
    ("MaxPool2d-overlap", lambda m: m.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 9)),
    ("MaxPool2d-ceil", lambda m: m.MaxPool2d(2, ceil_mode=True), (2, 2, 7, 7)),
    ("MaxPool2d-dilation", lambda m: m.MaxPool2d(2, stride=1, dilation=2), (1, 2, 7, 7)),
    ("AvgPool2d", lambda m: m.AvgPool2d(2), (2, 3, 8, 8)),
    ("AvgPool2d-pad", lambda m: m.AvgPool2d(3, stride=2, padding=1), (2, 3, 9, 9)),
    ("AdaptiveAvgPool2d", lambda m: m.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 8)),
    ("BatchNorm1d", lambda m: m.BatchNorm1d(5), (6, 5)),
    ("BatchNorm2d", lambda m: m.BatchNorm2d(3), (4, 3, 5, 5)),
    ("Flatten", lambda m: m.Flatten(), (2, 3, 4)),
    ("ReLU", lambda m: m.ReLU(), (3, 7)),
    ("Tanh", lambda m: m.Tanh(), (3, 7)),
    ("Sigmoid", lambda m: m.Sigmoid(), (3, 7)),
    ("LeakyReLU", lambda m: m.LeakyReLU(0.1), (3, 7)),
    ("GELU", lambda m: m.GELU(), (3, 7)),
    ("Softmax", lambda m: m.Softmax(dim=1), (3, 7)),
    ("LogSoftmax", lambda m: m.LogSoftmax(dim=1), (3, 7)),
    ("Dropout-eval", lambda m: m.Dropout(0.5).eval(), (3, 7)),
    (
        "Sequential-cnn",
        lambda m: m.Sequential(
            m.Conv2d(1, 4, 3, padding=1),
            m.ReLU(),
            m.MaxPool2d(2),
            m.Flatten(),
            m.Linear(4 * 4 * 4, 3),
        ),
        (5, 1, 8, 8),
    ),  # fmt: skip
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch_cuda(name, make, shape, dtype):
    dg, th = _twin(lambda: make(dnn), lambda: make(torch.nn), dtype)
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    (xd,), (xt,) = _inputs([x], dtype)
    out, expected = dg(xd), th(xt)
    close(out, expected, dtype)
    g = np.random.default_rng(1).standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(deepgrad.tensor(g, device="cuda"))
    expected.backward(torch.tensor(g, device=TDEV))
    close(xd.grad, xt.grad, dtype)
    for p, q in zip(dg.parameters(), th.parameters()):
        close(p.grad, q.grad, dtype)
    for b, c in zip(dg.buffers(), th.buffers()):  # BatchNorm's running statistics
        if host(b).dtype.kind == "f":
            close(b, c, dtype)


def test_max_pool_return_indices_match_torch_cuda():
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 9)).astype(np.float32)
    y, i = deepgrad.nn.functional.max_pool2d(
        deepgrad.tensor(x, device="cuda"), 3, 2, 1, return_indices=True
    )
    ty, ti = torch.nn.functional.max_pool2d(
        torch.tensor(x, device=TDEV), 3, 2, 1, return_indices=True
    )
    close(y, ty)
    assert i.device.type == "cuda" and (host(i) == ti.cpu().numpy()).all()


def test_dropout_on_gpu_zeroes_and_rescales_there():
    x = deepgrad.ones(200, 50, device="cuda", requires_grad=True)
    y = deepgrad.nn.functional.dropout(x, 0.3)
    kept = host(y) != 0
    assert abs(kept.mean() - 0.7) < 0.02  # 10,000 draws: 5 standard deviations is 0.023
    np.testing.assert_allclose(host(y)[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), host(y), rtol=1e-6)


LOSSES = [
    ("mse", lambda F, x, y: F.mse_loss(x, y), "real"),
    ("l1", lambda F, x, y: F.l1_loss(x, y, reduction="sum"), "real"),
    ("bce", lambda F, x, y: F.binary_cross_entropy(x.sigmoid(), y), "prob"),
    ("bce_logits", lambda F, x, y: F.binary_cross_entropy_with_logits(x, y), "prob"),
    ("cross_entropy", lambda F, x, y: F.cross_entropy(x, y), "class"),
    ("cross_entropy-smooth", lambda F, x, y: F.cross_entropy(x, y, label_smoothing=0.1), "class"),
    ("cross_entropy-ignore", lambda F, x, y: F.cross_entropy(x, y, ignore_index=1), "class"),
    ("cross_entropy-probs", lambda F, x, y: F.cross_entropy(x, y.softmax(1)), "real"),
    ("nll", lambda F, x, y: F.nll_loss(x.log_softmax(1), y), "class"),
    ("kl_div", lambda F, x, y: F.kl_div(x.log_softmax(1), y, reduction="batchmean"), "dist"),
    ("multi_margin", lambda F, x, y: F.multi_margin_loss(x, y), "class"),
    ("hinge", lambda F, x, y: F.hinge_embedding_loss(x, y), "sign"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, fn, kind", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_matches_torch_cuda(name, fn, kind, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5)).astype(dtype)
    if kind == "class":
        y = rng.integers(0, 5, 6)
    elif kind == "prob":
        y = rng.random((6, 5)).astype(dtype)
    elif kind == "dist":
        y = rng.dirichlet(np.ones(5), 6).astype(dtype)
    elif kind == "sign":
        y = np.sign(rng.standard_normal((6, 5))).astype(dtype)
    else:
        y = rng.standard_normal((6, 5)).astype(dtype)
    (xd,), (xt,) = _inputs([x], dtype)
    yd, yt = deepgrad.tensor(y, device="cuda"), torch.tensor(y, device=TDEV)
    out = fn(deepgrad.nn.functional, xd, yd)
    expected = fn(torch.nn.functional, xt, yt)
    close(out, expected, dtype)
    out.backward()
    expected.backward()
    close(xd.grad, xt.grad, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_cross_entropy_matches_torch_cuda(reduction, dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((300, 10)) * 5).astype(dtype)  # more rows than the block's threads
    y = rng.integers(0, 10, 300)
    (xd,), (xt,) = _inputs([x], dtype)
    out = deepgrad.nn.functional.cross_entropy(xd, deepgrad.tensor(y, device="cuda"),
                                               reduction=reduction)  # fmt: skip
    assert type(out.grad_fn).__name__ == "CrossEntropyCUDA"  # the fused kernels ran
    assert out.grad_fn.name() == "NllLossBackward0"  # and the node has torch's name
    expected = torch.nn.functional.cross_entropy(xt, torch.tensor(y, device=TDEV),
                                                 reduction=reduction)  # fmt: skip
    close(out, expected, dtype)
    (out * 3).backward()
    (expected * 3).backward()
    close(xd.grad, xt.grad, dtype)


# ------------------------------------------------------------------------------ optimisers
def _to_gpu(pair: Pair) -> Pair:
    pair.dp = [deepgrad.tensor(p._data, device="cuda", requires_grad=True) for p in pair.dp]
    pair.tp = [p.detach().to(TDEV).requires_grad_(True) for p in pair.tp]
    pair.dX, pair.dY = pair.dX.cuda(), pair.dY.cuda()
    pair.tX, pair.tY = pair.tX.to(TDEV), pair.tY.to(TDEV)
    return pair


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_50_steps_on_gpu_match_torch_cuda_float64(case):
    name, kwargs = case
    pair = _to_gpu(Pair())
    dopt = getattr(deepgrad.optim, name)(pair.dp, **kwargs)
    topt = getattr(torch.optim, name)(pair.tp, **kwargs)
    dl = train(dopt, pair.deepgrad_loss, 50)
    tl = train(topt, pair.torch_loss, 50)
    np.testing.assert_allclose(dl, tl, rtol=1e-10, atol=1e-12)
    for d, t in zip(pair.dp, pair.tp):
        np.testing.assert_allclose(host(d), host(t), rtol=1e-10, atol=1e-12)
    assert pair.dp[-1].grad is None  # the unused parameter is left alone
    for st_ in dopt.state.values():
        for value in st_.values():
            if isinstance(value, deepgrad.Tensor):
                assert value.device.type == "cuda"


@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.05, "momentum": 0.9}),
                                          ("Adam", {"lr": 0.01}),
                                          ("AdamW", {"lr": 0.01, "amsgrad": True})])  # fmt: skip
def test_50_steps_on_gpu_float32_track_torch_cuda(name, kwargs):
    pair = _to_gpu(Pair(dtype=torch.float32))
    dopt = getattr(deepgrad.optim, name)(pair.dp, **kwargs)
    topt = getattr(torch.optim, name)(pair.tp, **kwargs)
    dl = train(dopt, pair.deepgrad_loss, 50)
    tl = train(topt, pair.torch_loss, 50)
    np.testing.assert_allclose(dl, tl, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------------------ training
def _course_model(lib, kind):
    nn = lib.nn
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256),
                             nn.ReLU(), nn.Linear(256, 10))  # fmt: skip
    return nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1568, 10))  # fmt: skip


def _teacher_data(n=1024, seed=0):
    """Images with labels a fixed random linear teacher gives them: learnable, no download."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    w = rng.standard_normal((784, 10)).astype(np.float32)
    return x, (x.reshape(n, -1) @ w).argmax(1).astype(np.int64)


class HostCopies:
    """Counts copies from the GPU to the host (CuPy's ``get`` and every implicit conversion)."""

    NAMES = ("get", "item", "tolist", "__array__", "__bool__", "__float__", "__int__", "__index__")

    def __init__(self):
        import cupy

        self.cls, self.count, self.where, self.saved = cupy.ndarray, 0, [], {}

    def __enter__(self):
        import traceback

        for name in self.NAMES:
            orig = getattr(self.cls, name, None)
            if orig is None:
                continue
            self.saved[name] = self.cls.__dict__.get(name)

            def counted(arr, *a, _orig=orig, _name=name, **k):
                self.count += 1
                self.where.append(_name + "".join(traceback.format_stack(limit=4)[:-1]))
                return _orig(arr, *a, **k)

            setattr(self.cls, name, counted)
        return self

    def __exit__(self, *exc):
        for name, orig in self.saved.items():
            if orig is None:
                delattr(self.cls, name)
            else:
                setattr(self.cls, name, orig)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_course_model_trains_on_gpu_like_torch_cuda_without_host_copies(kind):
    torch.manual_seed(0)
    tmodel = _course_model(torch, kind)
    dmodel = _course_model(deepgrad, kind)
    dmodel.load_state_dict({k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()})
    dmodel.to("cuda")
    tmodel.to(TDEV)
    x, y = _teacher_data()
    xd, yd = deepgrad.tensor(x, device="cuda"), deepgrad.tensor(y, device="cuda")
    xt, yt = torch.tensor(x, device=TDEV), torch.tensor(y, device=TDEV)
    dopt = deepgrad.optim.SGD(dmodel.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.05, momentum=0.9)
    dloss_fn, tloss_fn = deepgrad.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    order = np.random.default_rng(1).permutation(len(x))
    dl, tl = [], []
    copies = HostCopies()
    for epoch in range(3):  # a full short run: 3 epochs of 16 batches of 64
        for b in range(0, len(x), 64):
            sel = order[b : b + 64]
            sd, st_ = deepgrad.tensor(sel, device="cuda"), torch.tensor(sel, device=TDEV)
            with copies if epoch == 1 else _nothing():
                dopt.zero_grad()
                loss = dloss_fn(dmodel(xd[sd]), yd[sd])
                loss.backward()
                dopt.step()
            topt.zero_grad()
            tloss = tloss_fn(tmodel(xt[st_]), yt[st_])
            tloss.backward()
            topt.step()
            dl.append(loss.item())
            tl.append(tloss.item())
    assert copies.count == 0, "host round trips in a training step:\n" + "\n".join(copies.where)
    assert all(p.device.type == "cuda" for p in dmodel.parameters())
    # float32 through 48 steps of momentum SGD: the two frameworks sum in different orders
    np.testing.assert_allclose(dl, tl, rtol=2e-3, atol=1e-4)
    assert dl[-1] < dl[0]  # it learns, step for step as torch does
    dmodel.eval()
    tmodel.eval()
    with deepgrad.no_grad(), torch.no_grad():
        acc_d = (dmodel(xd).argmax(1) == yd).float().mean().item()
        acc_t = (tmodel(xt).argmax(1) == yt).float().mean().item()
    assert abs(acc_d - acc_t) < 0.01


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def test_mixing_devices_raises_torchs_error():
    a = deepgrad.ones(3, device="cuda")
    b = deepgrad.ones(3)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                       "found at least two devices, cuda:0 and cpu!"):  # fmt: skip
        a + b
    with pytest.raises(RuntimeError, match="same device"):
        deepgrad.nn.Linear(3, 2)(a)  # a CPU model on GPU data
    # a 0-d CPU tensor joins a GPU op, as in torch
    assert host(a * deepgrad.tensor(2.0)).tolist() == [2.0, 2.0, 2.0]


def test_moves_and_factories_follow_torch():
    x = deepgrad.arange(6.0, requires_grad=True)
    y = x.to("cuda")
    assert y.device == deepgrad.device("cuda:0") and y.is_cuda and not x.is_cuda
    assert y.to("cuda") is y and y.cuda() is y
    (y * y).sum().backward()  # the gradient comes back to the CPU leaf
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.arange(6.0))
    with pytest.raises(TypeError, match="cuda:0 device type tensor to numpy"):
        y.detach().numpy()
    assert "device='cuda:0'" in repr(y)
    made = [
        deepgrad.zeros(2, 3, device="cuda"),
        deepgrad.randn(4, device="cuda"),
        deepgrad.zeros_like(y),
        deepgrad.full((2,), 3.0, device=0),
        deepgrad.arange(5, device="cuda"),
        deepgrad.tensor([1, 2], device="cuda"),
    ]
    assert all(t.device.type == "cuda" for t in made)
    deepgrad.set_default_device("cuda")
    try:
        assert deepgrad.ones(2).is_cuda
    finally:
        deepgrad.set_default_device("cpu")
    assert not deepgrad.ones(2).is_cuda


def test_train_command_on_the_gpu_matches_the_cpu_run(tmp_path):
    import json

    from deepgrad.cli import main

    runs = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / device
        args = ["train", "--model", "mlp", "--dataset", "moons", "--epochs", "3", "--quiet",
                "--out", str(out), "--device", device]  # fmt: skip
        assert main(args) == 0
        runs[device] = json.loads((out / "metrics.json").read_text())
        assert (out / "model.safetensors").exists()
    cpu, gpu = runs["cpu"], runs["cuda"]
    assert abs(cpu["test_accuracy"] - gpu["test_accuracy"]) <= 0.02
    np.testing.assert_allclose(gpu["train_loss"], cpu["train_loss"], rtol=1e-3)


def test_layers_made_on_the_gpu_like_torch():
    layer = deepgrad.nn.Linear(4, 3, device="cuda")
    assert layer.weight.device.type == "cuda" and layer.bias.device.type == "cuda"
    deepgrad.set_default_device("cuda")
    try:
        model = deepgrad.nn.Sequential(deepgrad.nn.Conv2d(1, 2, 3), deepgrad.nn.BatchNorm2d(2))
        x = deepgrad.randn(2, 1, 5, 5)
    finally:
        deepgrad.set_default_device("cpu")
    assert all(t.device.type == "cuda" for t in [*model.parameters(), *model.buffers(), x])
    model(x).sum().backward()
    assert model[0].weight.grad.device.type == "cuda"
