"""Fault injection: ``deepgrad train`` killed at random instants (SIGKILL and SIGINT), then
resumed, must end with the same weights as an uninterrupted run, bit for bit, and leave no
stray file behind.

The model (an MLP with two hidden layers of 512) makes a checkpoint of about 3 MB, so a good
share of the kills lands inside a save; each training is a few seconds. The oracle is the same
command run once without interruption.

The default run kills 4 times (a few seconds of training each). The full test, 50 kills, runs
with ``pytest -m faults tests/test_train_faults.py``; it becomes a step of ``.ci/run`` once it
passes (see there).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

ARGS = ["--model", "mlp", "--hidden", "512,512", "--epochs", "4", "--batch-size", "16",
        "--seed", "3", "--quiet"]  # fmt: skip
RUN_FILES = {
    "checkpoint.safetensors", "config.json", "model.safetensors", "history.csv",
    "metrics.json", "curves.png", "confusion.png", "report.md",
}  # fmt: skip


def _data(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 4))
    label = np.where(x[:, 0] * x[:, 1] > 0, "same", "other")
    lines = ["a,b,c,d,sign"] + [
        f"{r[0]:.5f},{r[1]:.5f},{r[2]:.5f},{r[3]:.5f},{c}" for r, c in zip(x, label)
    ]
    path = folder / "signs.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _env():
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = "1"
    return env


def _start(argv) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "deepgrad.cli", "train", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _command(out: Path, csv: Path) -> list[str]:
    if (out / "checkpoint.safetensors").exists():
        return ["--resume", str(out)]
    return ["--dataset", f"csv:{csv}", *ARGS, "--out", str(out)]


def _reference(tmp_path, csv) -> tuple[dict, float]:
    """The uninterrupted run's weights, and its seconds from the first line to the end."""
    out = tmp_path / "reference"
    p = _start(_command(out, csv))
    p.stdout.readline()  # "training ...": imports and data are done
    t0 = time.monotonic()
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    return load_file(out / "model.safetensors"), time.monotonic() - t0


def _kill_and_resume(out: Path, csv, reference, seconds, kills: int, seed: int) -> dict:
    """Train into folder ``out``, killing the process ``kills`` times at random instants of its
    training (alternating SIGKILL and SIGINT), resuming after each, until it finishes."""
    rng = np.random.default_rng(seed)
    done, stats = 0, {"sigkill": 0, "sigint": 0, "starts": 0, "in_save": 0}
    for _ in range(10 * kills + 20):
        p = _start(_command(out, csv))
        stats["starts"] += 1
        first = p.stdout.readline()
        if done < kills and first:
            time.sleep(rng.uniform(0, seconds))
            if p.poll() is None:
                sig = signal.SIGKILL if done % 2 == 0 else signal.SIGINT
                p.send_signal(sig)
                done += 1
                stats["sigkill" if sig == signal.SIGKILL else "sigint"] += 1
        rest, err = p.communicate(timeout=600)
        assert "Traceback" not in err or not first, err  # none once training has begun
        if out.is_dir() and any(n.endswith(".tmp") for n in os.listdir(out)):
            stats["in_save"] += 1  # this kill landed inside a write
        # A SIGINT after the run has printed its summary can land in the interpreter's own
        # shutdown, after Python has put back the default handler: the process then dies of the
        # signal (-2), but the run was complete, as the summary says.
        finished_then_killed = p.returncode == -signal.SIGINT and "run saved in" in rest
        if (
            p.returncode == 0
            or finished_then_killed
            or (p.returncode == 2 and "has trained" in err)
        ):
            if done >= kills:
                break
            shutil.rmtree(out)  # finished before the kill: start again from a fresh folder
            continue
        assert p.returncode in (-signal.SIGKILL, 130, 1), (p.returncode, err)
        if p.returncode == 130 and first:
            assert "interrupted" in err and "Traceback" not in err
        if p.returncode == 1:
            pytest.fail(f"run failed after a kill: {err}")
    else:
        pytest.fail(f"the run did not finish after {stats['starts']} starts")
    assert sorted(os.listdir(out)) == sorted(RUN_FILES)  # no lock, no temporary file
    weights = load_file(out / "model.safetensors")
    assert weights.keys() == reference.keys()
    for k in reference:
        np.testing.assert_array_equal(weights[k], reference[k], err_msg=k)
    return stats


def test_a_few_kills_then_resume_give_the_uninterrupted_weights(tmp_path):
    csv = _data(tmp_path)
    reference, seconds = _reference(tmp_path, csv)
    stats = _kill_and_resume(tmp_path / "killed", csv, reference, seconds, kills=4, seed=0)
    assert stats["sigkill"] + stats["sigint"] == 4


@pytest.mark.faults
def test_fifty_kills_then_resume_give_the_uninterrupted_weights(tmp_path, request):
    if "faults" not in (request.config.getoption("-m") or ""):
        pytest.skip("the 50-kill test runs with: pytest -m faults tests/test_train_faults.py")
    csv = _data(tmp_path)
    reference, seconds = _reference(tmp_path, csv)
    total = {"sigkill": 0, "sigint": 0, "starts": 0, "in_save": 0}
    for chain in range(10):  # ten runs, five kills each
        out = tmp_path / f"killed-{chain}"
        stats = _kill_and_resume(out, csv, reference, seconds, kills=5, seed=chain + 1)
        print(f"chain {chain + 1}/10: {stats}", flush=True)  # progress with pytest -s
        for k in total:
            total[k] += stats[k]
    assert total["sigkill"] + total["sigint"] == 50
    print(f"fault injection: {total}")
