"""Devices without a GPU: the queries tutorials make first, device names, moves to the CPU, and
PyTorch's kind of error when a GPU is asked for. Oracle: PyTorch 2.13's CPU build, which has no
GPU either. (The GPU itself is tested in test_cuda.py, on a machine that has one.)"""

from __future__ import annotations

import contextlib
import io
import types

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.backend import array_module, scatter_add
from deepgrad.device import backend_of, mismatch_error, register_backend
from deepgrad.ops.elementwise import ReLU

no_gpu = pytest.mark.skipif(deepgrad.cuda.is_available(), reason="this machine has a GPU")


@no_gpu
def test_queries_answer_like_torch_without_a_gpu():
    assert deepgrad.cuda.is_available() is torch.cuda.is_available() is False
    assert deepgrad.cuda.device_count() == torch.cuda.device_count() == 0
    assert deepgrad.backends.mps.is_available() == torch.backends.mps.is_available()
    assert deepgrad.backends.mps.is_built() == torch.backends.mps.is_built()
    assert deepgrad.accelerator.is_available() == torch.accelerator.is_available()
    assert deepgrad.accelerator.current_accelerator() is None
    assert torch.accelerator.current_accelerator() is None
    assert deepgrad.cuda.manual_seed(0) is None and deepgrad.cuda.manual_seed_all(1) is None
    deepgrad.backends.cudnn.benchmark = True  # accepted, as tutorials set it
    assert deepgrad.cuda.unavailable_reason()


@no_gpu
@pytest.mark.parametrize(
    "ask",
    [
        lambda lib: lib.zeros(2, device="cuda"),
        lambda lib: lib.ones(2).cuda(),
        lambda lib: lib.ones(2).to("cuda"),
        lambda lib: lib.ones(2).to(lib.device("cuda:0")),
        lambda lib: lib.tensor([1.0], device="cuda"),
        lambda lib: lib.nn.Linear(2, 2).to("cuda"),
        lambda lib: lib.nn.Linear(2, 2).cuda(),
        lambda lib: lib.cuda.synchronize(),
        lambda lib: lib.cuda.current_device(),
    ],
)
def test_asking_for_cuda_raises_torchs_kind_of_error(ask):
    with pytest.raises(AssertionError):  # a CPU build of torch: "not compiled with CUDA"
        ask(torch)
    with pytest.raises(AssertionError, match="no GPU") as info:
        ask(deepgrad)
    assert isinstance(info.value, RuntimeError)  # what torch with CUDA but no GPU raises
    assert "cpu" in str(info.value)  # the message says what to do instead


def test_other_backends_raise_with_the_fix():
    with pytest.raises(RuntimeError):
        torch.zeros(1, device="mps")
    with pytest.raises(RuntimeError, match="no 'mps' backend"):
        deepgrad.zeros(1, device="mps")


@pytest.mark.parametrize(
    "args", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 1), ("cpu", 0), ("mps",), ("meta",)]
)
def test_device_names_parse_like_torch(args):
    d, t = deepgrad.device(*args), torch.device(*args)
    assert (str(d), repr(d), d.type, d.index) == (str(t), repr(t), t.type, t.index)
    assert d == str(t) and deepgrad.device(d) == d and hash(d) == hash(deepgrad.device(str(t)))


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cuda:"])
def test_bad_device_names_raise_like_torch(bad):
    with pytest.raises(RuntimeError) as theirs:
        torch.device(bad)
    with pytest.raises(RuntimeError) as ours:
        deepgrad.device(bad)
    assert str(ours.value).split(":")[0] == str(theirs.value).split(":")[0]


def test_cpu_tensors_and_moves_to_the_cpu():
    x = deepgrad.ones(2, 3)
    assert x.device == deepgrad.device("cpu") and repr(x.device) == repr(torch.ones(1).device)
    assert x.device.type == "cpu" and x.is_cpu and not x.is_cuda
    assert x.to("cpu") is x and x.cpu() is x and x.to(deepgrad.device("cpu")) is x
    y = x.to("cpu", deepgrad.float64)
    assert y.dtype == deepgrad.float64 and y.device.type == "cpu"
    z = x.to(deepgrad.zeros(1, dtype=deepgrad.float64))  # another tensor's dtype and device
    assert z.dtype == deepgrad.float64
    assert x.to(device="cpu", dtype=deepgrad.float16).dtype == deepgrad.float16


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, d: lib.zeros(2, device=d),
        lambda lib, d: lib.ones(2, device=d),
        lambda lib, d: lib.empty(2, device=d),
        lambda lib, d: lib.full((2,), 1.0, device=d),
        lambda lib, d: lib.eye(2, device=d),
        lambda lib, d: lib.arange(3, device=d),
        lambda lib, d: lib.linspace(0, 1, 3, device=d),
        lambda lib, d: lib.rand(2, device=d),
        lambda lib, d: lib.randn(2, device=d),
        lambda lib, d: lib.randint(0, 3, (2,), device=d),
        lambda lib, d: lib.randperm(3, device=d),
        lambda lib, d: lib.tensor([1.0], device=d),
        lambda lib, d: lib.as_tensor([1.0], device=d),
        lambda lib, d: lib.zeros_like(lib.ones(2), device=d),
        lambda lib, d: lib.ones_like(lib.ones(2), device=d),
        lambda lib, d: lib.full_like(lib.ones(2), 2.0, device=d),
        lambda lib, d: lib.rand_like(lib.ones(2), device=d),
        lambda lib, d: lib.randn_like(lib.ones(2), device=d),
        lambda lib, d: lib.normal(0.0, 1.0, (2,), device=d),
    ],
)
@pytest.mark.parametrize("dev", ["cpu", None])
def test_every_factory_takes_device_like_torch(make, dev):
    d = deepgrad.device(dev) if dev else None
    ours, theirs = make(deepgrad, d), make(torch, torch.device(dev) if dev else None)
    assert ours.device == theirs.device and ours.dtype.name == str(theirs.dtype).split(".")[1]
    assert tuple(ours.shape) == tuple(theirs.shape)


def test_default_device_round_trip():
    assert deepgrad.get_default_device() == torch.get_default_device()
    deepgrad.set_default_device("cpu")
    assert deepgrad.get_default_device() == deepgrad.device("cpu")
    deepgrad.set_default_device(None)
    assert deepgrad.get_default_device().type == "cpu"
    with deepgrad.device("cpu"):
        assert deepgrad.zeros(1).device.type == "cpu"


@no_gpu
def test_default_device_cuda_fails_at_first_use_like_torch():
    deepgrad.set_default_device("cuda")
    try:
        with pytest.raises(AssertionError, match="no GPU"):
            deepgrad.zeros(2)
    finally:
        deepgrad.set_default_device("cpu")


def test_module_to_cpu_keeps_parameter_objects():
    m = deepgrad.nn.Linear(3, 2)
    params = list(m.parameters())
    assert m.to("cpu") is m and m.cpu() is m and m.to(deepgrad.device("cpu")) is m
    assert list(m.parameters()) == params and m.weight.device.type == "cpu"
    m.to(deepgrad.zeros(1, dtype=deepgrad.float64))
    assert m.weight.dtype == deepgrad.float64


DEVICE_AGNOSTIC = """
device = (
    "cuda" if lib.cuda.is_available()
    else "mps" if lib.backends.mps.is_available()
    else "cpu"
)
acc = lib.accelerator.current_accelerator().type if lib.accelerator.is_available() else "cpu"
print(f"Using {device} device ({acc})")
lib.manual_seed(0)
lib.cuda.manual_seed(0)
lib.set_default_device(device)
model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2)).to(device)
with lib.no_grad():
    for p in model.parameters():
        p.copy_(lib.linspace(-1, 1, p.numel()).reshape(p.shape))
X = lib.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]).to(device)
y = lib.tensor([0, 1], device=device)
loss = lib.nn.functional.cross_entropy(model(X), y)
loss.backward()
print(X.device, loss.device, model[0].weight.grad.device, next(model.parameters()).is_cuda)
print(f"{loss.item():.6f}", model(X).argmax(1).cpu().tolist())
"""


@no_gpu
def test_device_agnostic_tutorial_code_takes_its_cpu_path_like_torch():
    outputs = []
    for lib in (torch, deepgrad):
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                exec(DEVICE_AGNOSTIC, {"lib": lib})
        finally:  # torch's set_default_device installs a global mode: undo it for other tests
            lib.set_default_device(None)
        outputs.append(buf.getvalue())
    assert outputs[0] == outputs[1]
    assert outputs[1].startswith("Using cpu device (cpu)")


def test_mismatch_error_names_both_devices_like_torch():
    gpu = types.SimpleNamespace(device=types.SimpleNamespace(id=0), ndim=1)  # stands for CuPy
    err = mismatch_error([np.ones(2), gpu])
    assert str(err).startswith(
        "Expected all tensors to be on the same device, but found at least two devices, "
        "cuda:0 and cpu!"
    )
    assert mismatch_error([np.ones(()), gpu]) is None  # a 0-d CPU tensor may join, as in torch
    assert mismatch_error([np.ones(2), np.ones(3)]) is None


def test_the_core_reaches_the_gpu_only_through_its_registered_backend():
    """deepgrad.cuda registers its backend; devices and ops call it there and never import it
    (tests/cli/test_import_rules.py checks the imports)."""
    gpu = types.SimpleNamespace(device=types.SimpleNamespace(id=0), ndim=1)  # stands for CuPy
    assert backend_of(gpu) is deepgrad.cuda.backend
    calls = []

    class Recording:
        def check(self, dev):
            calls.append(("check", str(dev)))
            raise RuntimeError("refused by the backend")

        def relu_backward(self, g, y):
            calls.append(("relu_backward", g, y))
            return "dx"

    register_backend("cuda", Recording())
    try:
        with pytest.raises(RuntimeError, match="refused by the backend"):
            deepgrad.zeros(1, device="cuda:1")
        out = np.ones(2)
        assert ReLU.backward(types.SimpleNamespace(saved=(out,)), gpu) == "dx"
    finally:
        register_backend("cuda", deepgrad.cuda.backend)
    assert calls == [("check", "cuda:1"), ("relu_backward", gpu, out)]


def test_array_module_and_scatter_add_on_numpy():
    a = np.zeros(4)
    assert array_module(a) is np and array_module(slice(None)) is np
    scatter_add(a, np.array([1, 1, 3]), np.array([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(a, [0, 3, 0, 5])


def test_tensor_numpy_and_repr_stay_as_before_on_cpu():
    x = deepgrad.tensor([1.0, 2.0])
    assert "device" not in repr(x) and x.numpy() is x._data


@no_gpu
def test_train_command_says_there_is_no_gpu(capsys, tmp_path):
    from deepgrad.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["train", "--model", "mlp", "--dataset", "xor", "--device", "cuda", "--quiet",
              "--out", str(tmp_path / "run")])  # fmt: skip
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--device cuda" in err and "no GPU" in err
    assert not (tmp_path / "run").exists()


def test_layers_take_device_like_torch():
    assert deepgrad.nn.Linear(3, 2, device="cpu").weight.device.type == "cpu"
    if not deepgrad.cuda.is_available():
        with pytest.raises(AssertionError, match="no GPU"):
            deepgrad.nn.Linear(3, 2, device="cuda")
