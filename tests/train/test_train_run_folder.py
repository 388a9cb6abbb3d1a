"""Run folders belong to their run: ``--out`` refuses foreign folders without ``--overwrite``,
an interrupted re-train leaves the old run whole, a lock keeps a second writer out (and a
stale one is taken over), and ``config.json`` records absolute data paths.

Oracles: the folder's bytes before and after (SHA-256 of every file), the messages.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from deepgrad import cli
from deepgrad.train import run as run_mod

XOR = ["train", "--model", "mlp", "--dataset", "xor", "--samples", "60", "--hidden", "4",
       "--epochs", "2", "--quiet"]  # fmt: skip


def main(capsys, *argv):
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_out_with_foreign_files_is_refused_without_overwrite(capsys, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    code, _, err = main(capsys, *XOR, "--out", out)
    assert code == 1
    assert f"--out {out} holds files that are not part of a deepgrad run (thesis.tex)" in err
    assert "--overwrite" in err and sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
    code, _, _ = main(capsys, *XOR, "--out", out, "--overwrite")
    assert code == 0 and (out / "thesis.tex").read_text() == "years of work"
    assert (out / "report.md").exists() and not (out / ".lock").exists()


def test_interrupted_retrain_leaves_the_old_run_whole(capsys, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert main(capsys, *XOR, "--out", out)[0] == 0
    before = snapshot(out)

    import importlib

    fit_mod = importlib.import_module("deepgrad.train.fit")  # the module, not the function
    real_fit = fit_mod.fit

    def ctrl_c_in_epoch_one(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fit_mod, "fit", ctrl_c_in_epoch_one)
    code, _, err = main(capsys, *XOR, "--seed", "7", "--out", out)
    assert code == 130
    assert f"nothing of this run was saved, the earlier run in {out} is unchanged" in err
    assert snapshot(out) == before and sorted(p.name for p in out.iterdir()) == sorted(before)

    # After its first checkpoint the new run owns the folder: old results are gone, the
    # settings are the new ones, and Ctrl-C says the truth about what is there.
    def stop_after_epoch_one(*args, **kwargs):
        kwargs["callbacks"] = list(kwargs["callbacks"])
        checkpoint = kwargs["callbacks"][-1]
        save = checkpoint.on_epoch_end

        def then_interrupt(state, logs):
            save(state, logs)
            raise KeyboardInterrupt

        checkpoint.on_epoch_end = then_interrupt
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(fit_mod, "fit", stop_after_epoch_one)
    code, _, err = main(capsys, *XOR, "--seed", "7", "--out", out)
    assert code == 130 and f"{out} keeps the checkpoint of epoch 1 of 2" in err
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.safetensors", "config.json"]
    assert json.loads((out / "config.json").read_text())["seed"] == 7


def test_lock_keeps_a_second_writer_out_and_a_stale_lock_is_taken_over(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        import socket

        (out / ".lock").write_text(f"{other.pid} {socket.gethostname()}\n")
        code, _, err = main(capsys, *XOR, "--out", out)
        assert code == 1
        assert f"{out} is being written by another training (process {other.pid} on" in err
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    finally:
        other.kill()
        other.wait()
    code, _, err = main(capsys, *XOR, "--out", out)  # its owner is gone: taken over
    assert code == 0, err
    assert not (out / ".lock").exists()
    # The Python API keeps the same rule.
    lock = run_mod.RunLock(out).acquire()
    try:
        with pytest.raises(run_mod.RunError, match="being written by another training"):
            _second_process_lock(out)
    finally:
        lock.release()
    assert not (out / ".lock").exists()


def _second_process_lock(out):
    """Take the lock of ``out`` from another process; raises its RunError text as ours."""
    code = (
        "import sys; from deepgrad.train.run import RunLock, RunError\n"
        f"try:\n    RunLock({str(out)!r}).acquire()\nexcept RunError as e:\n"
        "    print(e); sys.exit(1)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if p.returncode == 1:
        raise run_mod.RunError(p.stdout.strip())
    raise AssertionError(f"the second process got the lock: {p.stdout} {p.stderr}")


def test_config_records_absolute_data_paths(capsys, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    rows = ["a,b,label"] + [f"{i % 7},{i % 5},{'x' if i % 2 else 'y'}" for i in range(30)]
    (data / "d.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(data)
    out = tmp_path / "run"
    args = ["train", "--model", "softmax", "--dataset", "csv:d.csv", "--epochs", "1", "--quiet"]
    assert main(capsys, *args, "--out", out)[0] == 0
    config = json.loads((out / "config.json").read_text())
    assert config["data_paths"] == {"csv": str(data / "d.csv")}
    monkeypatch.chdir(tmp_path)  # somewhere else: the relative csv:d.csv is not here
    code, text, err = main(capsys, "evaluate", out)
    assert code == 0, err
    assert "test accuracy" in text
