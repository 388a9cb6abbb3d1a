"""Checkpoints: safetensors round trips, atomic writes under simulated crashes, clear errors,
and resuming training bit for bit.

Oracles: the original tensors and states themselves, PyTorch (a deepgrad checkpoint loads into
the same torch network and gives the same outputs), the safetensors format as written by the
safetensors package, and an uninterrupted run for resuming.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import models, nn, optim
from deepgrad.data import DataLoader, TensorDataset, spiral, standardize
from deepgrad.train import (
    CheckpointError,
    ModelCheckpoint,
    fit,
    load_checkpoint,
    load_model,
    load_state_dict,
    save_checkpoint,
    save_model,
    save_state_dict,
)
from deepgrad.train import checkpoint as ckpt


def _trained_adam(steps=3):
    model = models.mlp(4, (6,), 3)
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.95))
    x, y = deepgrad.randn(10, 4), deepgrad.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, opt, (x, y)


def test_nested_state_round_trip_is_exact(tmp_path):
    model, opt, _ = _trained_adam()
    state = {
        "optimizer": opt.state_dict(),
        "numbers": (1, 2.5, float("inf"), None, "text"),
        "by_index": {0: np.arange(3, dtype=np.int64), 7: [np.float32(1.5), True]},
        "rng": deepgrad.random.default_generator.get_state(),
    }
    save_state_dict(state, tmp_path / "s.safetensors", metadata={"epoch": 4})
    loaded, meta = load_state_dict(tmp_path / "s.safetensors", as_tensors=False)
    assert meta == {"epoch": 4}
    assert loaded["numbers"] == (1, 2.5, float("inf"), None, "text")
    assert list(loaded["by_index"]) == [0, 7]  # integer keys stay integers
    np.testing.assert_array_equal(loaded["by_index"][0], np.arange(3))
    assert loaded["rng"] == state["rng"]  # 128-bit integers survive
    saved_opt, got_opt = state["optimizer"], loaded["optimizer"]
    assert got_opt["param_groups"] == saved_opt["param_groups"]
    assert got_opt["param_groups"][0]["betas"] == (0.8, 0.95)
    for k, v in saved_opt["state"].items():
        for name, value in v.items():
            expected = value._data if isinstance(value, deepgrad.Tensor) else value
            np.testing.assert_array_equal(got_opt["state"][k][name], expected)


def test_optimizer_state_round_trip_continues_identically(tmp_path):
    model, opt, (x, y) = _trained_adam()
    save_state_dict(opt.state_dict(), tmp_path / "opt.safetensors")
    save_model(model, tmp_path / "model.safetensors")

    model2 = models.mlp(4, (6,), 3)
    opt2 = optim.Adam(model2.parameters(), lr=0.5)  # hyper-parameters come from the file
    load_model(model2, tmp_path / "model.safetensors")
    opt2.load_state_dict(load_state_dict(tmp_path / "opt.safetensors")[0])
    assert opt2.param_groups[0]["lr"] == 0.01
    for m, o in ((model, opt), (model2, opt2)):
        for _ in range(2):
            loss = nn.functional.cross_entropy(m(x), y)
            o.zero_grad()
            loss.backward()
            o.step()
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a._data, b._data)


def test_model_file_is_plain_safetensors_that_torch_loads(tmp_path):
    from safetensors.torch import load_file

    model = models.mlp(5, (7,), 3)
    save_model(model, tmp_path / "m.safetensors", metadata={"note": "x"})
    ref = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3)
    )
    ref.load_state_dict(load_file(tmp_path / "m.safetensors"))
    x = deepgrad.randn(4, 5)
    with deepgrad.no_grad():
        ours = model(x)._data
    np.testing.assert_allclose(ours, ref(torch.from_numpy(x._data)).detach().numpy(), rtol=1e-6)
    assert ckpt.read_model_metadata(tmp_path / "m.safetensors") == {"note": "x"}


def test_header_is_json_not_pickle(tmp_path):
    model, opt, _ = _trained_adam(1)
    path = save_state_dict(opt.state_dict(), tmp_path / "o.safetensors")
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])  # the whole structure is plain JSON
    assert json.loads(header["__metadata__"]["state"])["param_groups"][0]["lr"] == 0.01
    with pytest.raises(TypeError, match="cannot be stored without pickle"):
        save_state_dict({"fn": lambda: 0}, tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()


def test_loading_into_another_shape_is_a_clear_error(tmp_path):
    save_model(models.mlp(4, (8,), 3), tmp_path / "m.safetensors")
    with pytest.raises(CheckpointError) as info:
        load_model(models.mlp(4, (16,), 3), tmp_path / "m.safetensors")
    msg = str(info.value)
    assert "m.safetensors" in msg
    assert "size mismatch for 1.weight" in msg and "(8, 4)" in msg and "(16, 4)" in msg
    with pytest.raises(CheckpointError, match="Missing key"):
        load_model(models.mlp(4, (8, 8), 3), tmp_path / "m.safetensors")


def test_damaged_and_missing_files_are_clear_errors(tmp_path):
    path = save_model(models.softmax(4, 3), tmp_path / "m.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        load_model(models.softmax(4, 3), path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(models.softmax(4, 3), tmp_path / "nope.safetensors")


@pytest.mark.parametrize("where", ["replace", "fsync", "write"])
def test_crash_during_save_leaves_previous_file(tmp_path, monkeypatch, where):
    path = tmp_path / "model.safetensors"
    first = models.softmax(4, 3)
    save_model(first, path)
    second = models.softmax(4, 3)

    def boom(*args, **kwargs):
        raise OSError("simulated crash")

    if where == "replace":
        monkeypatch.setattr(os, "replace", boom)
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", boom)
    else:  # half the bytes reach the disk, then the writer dies
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, f):
                self.f = f

            def write(self, data):
                self.f.write(data[: len(data) // 2])
                self.f.flush()
                raise OSError("disk full")

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

        monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(OSError):
        save_model(second, path)
    monkeypatch.undo()
    restored = models.softmax(4, 3)
    load_model(restored, path)
    for a, b in zip(restored.parameters(), first.parameters()):
        np.testing.assert_array_equal(a._data, b._data)
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temp files left


def test_checkpoint_is_one_file_and_a_flipped_bit_is_refused(tmp_path):
    model, opt, _ = _trained_adam(1)
    path = save_checkpoint(tmp_path, model, opt, epoch=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors"]
    # Readable by the safetensors package: the model's weights are there under their names.
    from safetensors.numpy import load_file

    stored = load_file(path)
    np.testing.assert_array_equal(stored["state.model.1.weight"], model[1].weight._data)
    raw = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", raw[:8])
    raw[8 + n + 5] ^= 0x10  # one bit of the first tensor's data
    path.write_bytes(bytes(raw))
    fresh = models.mlp(4, (6,), 3)
    before = [p._data.copy() for p in fresh.parameters()]
    with pytest.raises(CheckpointError, match="damaged: the checksum of the data of tensor"):
        load_checkpoint(tmp_path, fresh, optim.Adam(fresh.parameters()))
    for p, b in zip(fresh.parameters(), before):  # nothing was loaded
        np.testing.assert_array_equal(p._data, b)


def test_damaged_metadata_and_absurd_learning_rate_are_refused(tmp_path):
    model, opt, _ = _trained_adam(1)
    path = save_checkpoint(tmp_path, model, opt, epoch=1)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header["__metadata__"]["metadata"] = header["__metadata__"]["metadata"].replace(
        '"epoch": 1', '"epoch": 7'
    )
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n :])
    with pytest.raises(CheckpointError, match="checksum of its metadata"):
        load_checkpoint(tmp_path, model, opt)
    # A well-formed checkpoint (valid checksums) whose optimiser has lr 1e9 does not train.
    opt.param_groups[0]["lr"] = 1e9
    save_checkpoint(tmp_path, model, opt, epoch=1)
    with pytest.raises(CheckpointError, match=r"lr=1000000000.0 in param group 0, outside"):
        load_checkpoint(tmp_path, model, opt)


def test_clean_temp_files_removes_only_killed_writes(tmp_path):
    (tmp_path / ".checkpoint.safetensors.abc123.tmp").write_bytes(b"x" * 100)
    (tmp_path / "notes.tmp").write_text("mine")
    (tmp_path / "config.json").write_text("{}")
    removed = ckpt.clean_temp_files(tmp_path)
    assert [p.name for p in removed] == [".checkpoint.safetensors.abc123.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "notes.tmp"]


def _run(epochs, folder=None, resume=False, seed=5):
    """Train a small dropout MLP on the spiral with shuffling, Adam and a schedule."""
    x, y = spiral(120, 0.1, seed=0)
    x, _, _ = standardize(x)
    deepgrad.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    history, start = None, 0
    if resume:
        state = load_checkpoint(folder, model, opt, sched)
        history, start = state["history"], state["epoch"]
    callbacks = [ModelCheckpoint(folder)] if folder is not None else []
    h = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        loader,
        (x, y),
        epochs=epochs,
        scheduler=sched,
        callbacks=callbacks,
        progress=False,
        initial_epoch=start,
        history=history,
    )
    return model, h


def test_resume_equals_uninterrupted_run(tmp_path):
    full, h_full = _run(5)
    _run(2, tmp_path)  # "crashes" after epoch 2 (the checkpoint of epoch 2 is on disk)
    # A different seed and other draws before loading: the checkpoint must restore them all.
    deepgrad.randn(100)
    resumed, h_res = _run(5, tmp_path, resume=True, seed=99)
    for a, b in zip(full.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a._data, b._data)
    for key in ("train_loss", "val_loss", "val_accuracy", "lr", "step"):
        assert h_res.epochs[key] == h_full.epochs[key]
    assert h_res.iterations["loss"] == h_full.iterations["loss"]
    fresh = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    assert load_checkpoint(tmp_path, fresh)["epoch"] == 5  # ModelCheckpoint saved every epoch
