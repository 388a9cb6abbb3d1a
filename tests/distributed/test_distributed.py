"""deepgrad.distributed on 2 MPI ranks: collectives, DDP, the sampler, the CLI, failures.

The checks that need ranks run in tests/distributed/mpi_checks.py under ``mpiexec -n 2``; one
launch runs
them all (process start-up is the expensive part) and every test here reads its part of the
result. Under pytest-xdist the first worker to get here launches, the other waits on a lock and
reuses the result. Every launch has a timeout and a hang kills the whole process group, so a
deadlock fails the test instead of blocking the suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ROOT / "tests" / "distributed" / "mpi_checks.py"
CHECK_NAMES = ("all_reduce", "collectives", "sampler", "equivalence", "no_sync", "batchnorm")
WORLD = 2


def _env() -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.pop("DEEPGRAD_SMOKE", None)
    return env


def start(cmd: list[str], cwd=None) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=cwd,
        start_new_session=True,  # its own process group: a hang is killed with all its ranks
    )


def finish(proc: subprocess.Popen, timeout: float, what: str) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{what} did not finish within {timeout} s (a hang):\n{out}\n{err}")
    return proc.returncode, out + err


def mpirun(args: list[str], timeout: float, what: str, cwd=None) -> tuple[int, str]:
    from deepgrad.distributed.run import mpiexec_command

    return finish(start(mpiexec_command(WORLD, args), cwd), timeout, what)


@pytest.fixture(scope="session")
def mpi_results(tmp_path_factory, worker_id):
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # shared by the xdist workers of this session
        root = root.parent
    out = root / "mpi_checks"
    with FileLock(str(root / "mpi_checks.lock")):
        if not (out / "status").exists():
            out.mkdir(exist_ok=True)
            status, log = mpirun(
                [str(CHECKS), str(out)], 600, "mpiexec -n 2 tests/distributed/mpi_checks.py"
            )
            (out / "log.txt").write_text(log)
            (out / "status").write_text(str(status))
    status = int((out / "status").read_text())
    log = (out / "log.txt").read_text()
    results = []
    for rank in range(WORLD):
        path = out / f"rank-{rank}.json"
        assert path.exists(), f"rank {rank} wrote no results (exit status {status}):\n{log}"
        results.append(json.loads(path.read_text()))
    assert status == 0, f"mpiexec exited with status {status}:\n{log}"
    return results


@pytest.mark.parametrize("rank", range(WORLD))
@pytest.mark.parametrize("check", CHECK_NAMES)
def test_mpi_check(mpi_results, check, rank):
    """Collectives against NumPy (every ReduceOp, dtypes, shapes, async), the sampler's
    coverage, DDP against one process, no_sync, SyncBatchNorm: see
    tests/distributed/mpi_checks.py."""
    result = mpi_results[rank][check]
    assert not result["failures"], "\n".join(result["failures"][:20])


def test_equivalence_figures(mpi_results):
    """Every model x optimiser x dtype was compared with its single-process run."""
    figures = {**mpi_results[0]["equivalence"]["values"], **mpi_results[1]["equivalence"]["values"]}
    expected = {
        f"{kind} {opt} {dtype}"
        for kind in ("mlp", "cnn")
        for opt in ("sgd", "adam")
        for dtype in ("float64", "float32")
    }
    assert set(figures) == expected
    for name, values in figures.items():
        if name.endswith("float64"):
            assert values["max_abs_diff"] <= 1e-12, (name, values)
    assert figures["mlp sgd float64"]["buckets"] >= 2  # the 1 MiB first bucket splits the MLP


def test_failure_on_one_rank_ends_the_job(tmp_path):
    status, log = mpirun([str(CHECKS), str(tmp_path), "fail"], 120, "the failing job")
    assert status != 0
    assert "[rank 1]" in log and "boom in the forward pass of rank 1" in log, log
    assert "did not stop" not in log


# --------------------------------------------------------------------------- deepgrad train
TRAIN = [
    "train", "--model", "mlp", "--dataset", "gauss", "--noise", "0.5", "--hidden", "32,32",
    "--optimizer", "adam", "--lr", "0.01", "--seed", "3", "--quiet",
]  # fmt: skip


def deepgrad_train(args: list[str], timeout: float = 300) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "deepgrad.cli", *TRAIN, *args]
    return finish(start(cmd), timeout, " ".join(cmd))


def weights(run: Path) -> dict:
    from deepgrad.train.checkpoint import load_state_dict

    return load_state_dict(run / "model.safetensors", as_tensors=False)[0]


def epoch_of(run: Path) -> int:
    from deepgrad.train.checkpoint import CheckpointError, read_model_metadata

    try:
        return int(read_model_metadata(run / "model.safetensors").get("epoch", 0))
    except (CheckpointError, OSError):
        return 0


def test_train_nproc_2_evaluates_like_one_process_and_resumes_after_a_kill(tmp_path, capsys):
    from deepgrad.cli import main

    # 2 ranks x batch 8 against 1 process x batch 16; the killed run starts alongside
    killed = start(
        [sys.executable, "-m", "deepgrad.cli", *TRAIN, "--nproc", "2", "--batch-size", "8"]
        + ["--epochs", "40", "--out", str(tmp_path / "killed")]
    )
    try:
        deadline = time.monotonic() + 300
        while epoch_of(tmp_path / "killed") < 1:
            assert killed.poll() is None, finish(killed, 10, "the run to kill")[1]
            assert time.monotonic() < deadline, "the run to kill saved no checkpoint in 300 s"
            time.sleep(0.02)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.communicate()
    done = epoch_of(tmp_path / "killed")
    epochs = max(3, done + 1)
    status, log = deepgrad_train(
        [
            "--nproc",
            "2",
            "--batch-size",
            "8",
            "--epochs",
            str(epochs),
            "--out",
            str(tmp_path / "two"),
        ]
    )
    assert status == 0, log
    written = {p.name for p in (tmp_path / "two").iterdir()}
    assert {"config.json", "metrics.json", "model.safetensors", "report.md"} <= written
    assert log.count("test accuracy") == 1, log  # rank 0 reports, rank 1 keeps quiet
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())

    one_args = ["--batch-size", "16", "--epochs", str(epochs), "--out", str(tmp_path / "one")]
    assert main([*TRAIN, *one_args]) == 0
    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    # the same data and effective batch, another sample order: the same plateau (89.5% here)
    assert abs(two["test_accuracy"] - one["test_accuracy"]) <= 0.03, (two, one)
    assert two["test_accuracy"] >= 0.85 and one["test_accuracy"] >= 0.85, (two, one)

    # the run folder is an ordinary run: evaluate (one process) reproduces its test accuracy
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "two")]) == 0
    assert f"test accuracy {100 * two['test_accuracy']:.2f}%" in capsys.readouterr().out

    # resumed after the kill, it ends with exactly the weights of the uninterrupted run
    status, log = deepgrad_train(
        ["--nproc", "2", "--resume", str(tmp_path / "killed"), "--epochs", str(epochs)]
    )
    assert status == 0, log
    assert f"resuming {tmp_path / 'killed'} at epoch {done + 1}" in log
    resumed, uninterrupted = weights(tmp_path / "killed"), weights(tmp_path / "two")
    for name, value in uninterrupted.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


LAUNCHED = """
import os, sys
import deepgrad
import deepgrad.distributed as dist

if sys.argv[1:] == ["fail"] and os.environ["RANK"] == "1":
    raise RuntimeError("rank 1 gives up before init_process_group")
dist.init_process_group()
t = deepgrad.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(t)
print(f"rank {os.environ['RANK']} of {os.environ['WORLD_SIZE']} local {os.environ['LOCAL_RANK']}"
      f" args {sys.argv[1:]} sum {t.item()}", flush=True)
"""


def test_deepgrad_run_launches_a_script_like_torchrun(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(LAUNCHED)
    launcher = [sys.executable, "-m", "deepgrad.distributed.run", "--nproc-per-node", "2"]
    status, log = finish(start([*launcher, str(script), "--x", "1"]), 120, "deepgrad-run")
    assert status == 0, log
    for rank in range(2):
        assert f"rank {rank} of 2 local {rank} args ['--x', '1'] sum 3.0" in log, log
    # a rank that dies before joining the group still ends the job
    status, log = finish(start([*launcher, str(script), "fail"]), 120, "deepgrad-run, failing")
    assert status != 0
    assert "[rank 1]" in log and "rank 1 gives up before init_process_group" in log, log
