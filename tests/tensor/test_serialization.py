"""deepgrad.save / deepgrad.load: round trips, PyTorch 2.13 checkpoints, malicious pickles."""

from __future__ import annotations

import io
import math
import os
import pickle
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.serialization import UnsafeCheckpointError

DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]


def _eq(a, b):
    """Deep equality of loaded structures, tensors by dtype, shape and values."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, deepgrad.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a._data, b._data)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            _eq(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _eq(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def _roundtrip(obj, tmp_path, **load_kwargs):
    path = tmp_path / "ckpt.pt"
    deepgrad.save(obj, path)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left
    return deepgrad.load(path, **load_kwargs)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_tensor_roundtrip_every_dtype_and_shape(dt, shape, tmp_path):
    a = (np.arange(int(np.prod(shape))) % 5 - 2).reshape(shape).astype(dt)
    t = deepgrad.tensor(a)
    _eq(_roundtrip(t, tmp_path), t)


def test_nested_structures_roundtrip(tmp_path):
    w = deepgrad.randn(3, 2, requires_grad=True)
    obj = {
        "epoch": 7,
        "lr": 1e-3,
        "flags": [True, False, None],
        "name": "run-1",
        "specials": (float("nan"), float("inf"), -float("inf")),
        "tensors": [w, (deepgrad.arange(4), {"deep": [deepgrad.ones(2, dtype=deepgrad.bool)]})],
        3: "int key",
        (1, 2): "tuple key",
        2.5: None,
        "ordered": OrderedDict([("b", 1), ("a", deepgrad.zeros(1))]),
        "empty": ({}, [], ()),
        "extras": ({1, "a"}, frozenset({2.5}), b"\x00\xff", deepgrad.float64, Counter("aab")),
        "numpy": np.arange(3.0),
    }
    got = _roundtrip(obj, tmp_path)
    np.testing.assert_array_equal(got.pop("numpy"), obj.pop("numpy"))
    _eq(got, obj)


def test_shared_tensors_stay_shared_and_parameters_stay_parameters(tmp_path):
    p = deepgrad.nn.Parameter(deepgrad.randn(2, 2))
    got = _roundtrip({"a": p, "b": p, "c": [p]}, tmp_path)
    assert got["a"] is got["b"] is got["c"][0]
    assert isinstance(got["a"], deepgrad.nn.Parameter) and got["a"].requires_grad
    np.testing.assert_array_equal(got["a"]._data, p._data)


def test_model_and_optimizer_state_dicts_roundtrip(tmp_path):
    deepgrad.manual_seed(0)
    model = deepgrad.nn.Sequential(
        deepgrad.nn.Linear(4, 8), deepgrad.nn.ReLU(), deepgrad.nn.Linear(8, 2)
    )
    opt = deepgrad.optim.Adam(model.parameters(), lr=0.01)
    x, y = deepgrad.randn(16, 4), deepgrad.randn(16, 2)

    def step(m, o):
        o.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        o.step()
        return loss.item()

    for _ in range(3):
        step(model, opt)
    deepgrad.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.pt")
    ckpt = deepgrad.load(tmp_path / "c.pt", weights_only=True)
    assert isinstance(ckpt["model"], OrderedDict)
    model2 = deepgrad.nn.Sequential(
        deepgrad.nn.Linear(4, 8), deepgrad.nn.ReLU(), deepgrad.nn.Linear(8, 2)
    )
    model2.load_state_dict(ckpt["model"])
    opt2 = deepgrad.optim.Adam(model2.parameters(), lr=0.01)
    opt2.load_state_dict(ckpt["opt"])
    for _ in range(3):  # training continues identically
        assert step(model, opt) == step(model2, opt2)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p._data, q._data)


def test_file_objects_mmap_and_map_location(tmp_path):
    t = deepgrad.randn(5, 3)
    buf = io.BytesIO()
    deepgrad.save({"t": t}, buf)
    buf.seek(0)
    _eq(deepgrad.load(buf, map_location="cpu")["t"], t)
    deepgrad.save(t, tmp_path / "m.pt")
    mapped = deepgrad.load(tmp_path / "m.pt", mmap=True, map_location=lambda s, loc: s)
    np.testing.assert_array_equal(np.asarray(mapped._data), t._data)
    loaded = deepgrad.load(tmp_path / "m.pt", map_location=deepgrad.device("cpu"))
    np.testing.assert_array_equal(loaded._data, t._data)


def test_files_are_safetensors_readable_by_the_reference_library(tmp_path):
    from safetensors.numpy import load_file

    obj = {"w": deepgrad.randn(3, 4), "i": deepgrad.arange(5), "h": deepgrad.ones(2).half()}
    deepgrad.save(obj, tmp_path / "s.safetensors")
    arrays = load_file(str(tmp_path / "s.safetensors"))
    assert sorted(np.concatenate([a.ravel().astype(float) for a in arrays.values()])) == sorted(
        np.concatenate([v._data.ravel().astype(float) for v in obj.values()])
    )


def test_plain_safetensors_files_load_as_a_dict(tmp_path):
    from safetensors.numpy import save_file

    save_file({"a": np.arange(6, dtype=np.float32).reshape(2, 3)}, str(tmp_path / "p.safetensors"))
    got = deepgrad.load(tmp_path / "p.safetensors")
    np.testing.assert_array_equal(got["a"]._data, np.arange(6, dtype=np.float32).reshape(2, 3))


def test_unsupported_objects_are_refused_and_the_old_file_kept(tmp_path):
    path = tmp_path / "keep.pt"
    deepgrad.save({"v": 1}, path)
    with pytest.raises(TypeError, match="state_dict"):
        deepgrad.save({"model": deepgrad.nn.Linear(2, 2)}, path)
    assert deepgrad.load(path) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["keep.pt"]


# --------------------------------------------------------------- files written by torch 2.13
def _torch_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))


def test_reads_a_torch_state_dict(tmp_path):
    tm = _torch_model()
    torch.save(tm.state_dict(), tmp_path / "sd.pth")
    sd = deepgrad.load(tmp_path / "sd.pth", weights_only=True)
    assert isinstance(sd, OrderedDict) and list(sd) == list(tm.state_dict())
    dm = deepgrad.nn.Sequential(
        deepgrad.nn.Linear(4, 8), deepgrad.nn.ReLU(), deepgrad.nn.Linear(8, 2)
    )
    dm.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        dm(deepgrad.tensor(x))._data, tm(torch.tensor(x)).detach().numpy(), rtol=1e-6
    )


def test_reads_a_torch_optimizer_state_dict(tmp_path):
    tm = _torch_model()
    opt = torch.optim.Adam(tm.parameters(), lr=0.01)
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    for _ in range(2):
        opt.zero_grad()
        ((tm(x) - y) ** 2).mean().backward()
        opt.step()
    torch.save({"model": tm.state_dict(), "opt": opt.state_dict()}, tmp_path / "ckpt.pt")
    ckpt = deepgrad.load(tmp_path / "ckpt.pt")
    dm = deepgrad.nn.Sequential(
        deepgrad.nn.Linear(4, 8), deepgrad.nn.ReLU(), deepgrad.nn.Linear(8, 2)
    )
    dm.load_state_dict(ckpt["model"])
    dopt = deepgrad.optim.Adam(dm.parameters(), lr=0.01)
    dopt.load_state_dict(ckpt["opt"])
    assert ckpt["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)
    # one more step in each library from the same state gives the same parameters
    opt.zero_grad()
    ((tm(x) - y) ** 2).mean().backward()
    opt.step()
    dopt.zero_grad()
    ((dm(deepgrad.tensor(x.numpy())) - deepgrad.tensor(y.numpy())) ** 2).mean().backward()
    dopt.step()
    for p, q in zip(dm.parameters(), tm.parameters()):
        np.testing.assert_allclose(p._data, q.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dt", DTYPES)
def test_reads_plain_torch_tensors_and_views(dt, tmp_path):
    base = torch.arange(24).reshape(4, 6).to(getattr(torch, dt))
    views = {
        "full": base,
        "slice": base[1:, 2:],
        "t": base.t(),
        "scalar": base[2, 3],
        "step": base[:, ::2],
    }
    torch.save(views, tmp_path / "v.pt")
    got = deepgrad.load(tmp_path / "v.pt")
    for k, v in views.items():
        assert str(got[k].dtype).split(".")[-1] == dt
        np.testing.assert_array_equal(got[k]._data, v.numpy())
    torch.save(base, tmp_path / "one.pt")
    np.testing.assert_array_equal(deepgrad.load(tmp_path / "one.pt")._data, base.numpy())


def test_reads_torch_parameters_and_plain_values(tmp_path):
    p = torch.nn.Parameter(torch.randn(2, 3))
    torch.save({"p": p, "n": None, "s": "text", "f": 2.5, "l": [1, (2, 3)]}, tmp_path / "x.pt")
    got = deepgrad.load(tmp_path / "x.pt")
    assert isinstance(got["p"], deepgrad.nn.Parameter) and got["p"].requires_grad
    np.testing.assert_array_equal(got["p"]._data, p.detach().numpy())
    assert (got["n"], got["s"], got["f"], got["l"]) == (None, "text", 2.5, [1, (2, 3)])


# --------------------------------------------------------------- malicious files
class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Write:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("payload", [_System, _Write])
@pytest.mark.parametrize("weights_only", [None, True, False])
def test_malicious_torch_checkpoint_is_refused(payload, weights_only, tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    torch.save({"weights": torch.ones(2), "x": payload(marker)}, path)  # torch's zip layout
    with pytest.raises(UnsafeCheckpointError, match="refused") as err:
        deepgrad.load(path, weights_only=weights_only)
    assert "Nothing from the file was executed" in str(err.value)
    assert not marker.exists()


def test_malicious_bare_pickle_and_build_tricks_are_refused(tmp_path):
    marker = tmp_path / "marker"
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(_System(marker)))
    with pytest.raises(RuntimeError):
        deepgrad.load(raw)
    # a torch-shaped zip whose pickle tries to set state on an allowed callable
    evil = (
        pickle.PROTO
        + b"\x02"
        + b"ctorch._utils\n_rebuild_tensor_v2\n"
        + b"}q\x00X\x04\x00\x00\x00evilq\x01K\x01s"
        + pickle.BUILD
        + pickle.STOP
    )
    path = tmp_path / "build.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("build/data.pkl", evil)
        z.writestr("build/byteorder", "little")
    with pytest.raises(UnsafeCheckpointError, match="refused"):
        deepgrad.load(path)
    assert not marker.exists()
    from deepgrad.serialization import _rebuild_tensor_v2

    assert not hasattr(_rebuild_tensor_v2, "evil")


def test_reads_torch_scheduler_state_and_plain_python_extras(tmp_path):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 5], gamma=0.5)
    torch.save(
        {"sched": sched.state_dict(), "dtype": torch.float64, "tags": {1, 2}, "raw": b"\x00\xff"},
        tmp_path / "s.pt",
    )
    got = deepgrad.load(tmp_path / "s.pt")
    assert dict(got["sched"]["milestones"]) == {2: 1, 5: 1}
    assert got["dtype"] == deepgrad.float64 and got["tags"] == {1, 2} and got["raw"] == b"\x00\xff"
    d_opt = deepgrad.optim.SGD([deepgrad.zeros(2, requires_grad=True)], lr=0.1)
    d_sched = deepgrad.optim.lr_scheduler.MultiStepLR(d_opt, milestones=[2, 5], gamma=0.5)
    d_sched.load_state_dict(got["sched"])
    assert d_sched.get_last_lr() == sched.get_last_lr()
