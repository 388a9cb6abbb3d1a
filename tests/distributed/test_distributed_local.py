"""The parts of deepgrad.distributed that need no MPI ranks: the sampler against PyTorch's,
gradient hooks against PyTorch's, reading ranks from launcher variables, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import deepgrad
from deepgrad import distributed as dist
from deepgrad.data import DistributedSampler, TensorDataset


# ----------------------------------------------------------------------------- the sampler
@pytest.mark.parametrize("n", [1, 7, 10, 12, 13])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_matches_torch(monkeypatch, n, replicas, shuffle, drop_last):
    """Same index lists as torch's DistributedSampler for every rank and epoch, given the
    same permutation (the random streams differ on purpose, see deepgrad/random.py): torch's
    randperm is replaced by deepgrad's permutation of seed + epoch."""

    def randperm(size, generator=None):
        seed = generator.initial_seed()
        perm = deepgrad.Generator().manual_seed(seed).rng.permutation(size)
        return torch.from_numpy(perm)

    monkeypatch.setattr(torch, "randperm", randperm)
    ds = TensorDataset(deepgrad.arange(n))
    for rank in range(replicas):
        ours = DistributedSampler(ds, replicas, rank, shuffle=shuffle, seed=5, drop_last=drop_last)
        theirs = tdata.DistributedSampler(
            range(n), replicas, rank, shuffle=shuffle, seed=5, drop_last=drop_last
        )
        for epoch in (0, 1, 2):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (rank, epoch)
            assert len(ours) == len(theirs)


def test_distributed_sampler_in_a_dataloader_gives_the_rank_its_share():
    ds = TensorDataset(deepgrad.arange(10))
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=True, seed=1)
        loader = deepgrad.data.DataLoader(ds, batch_size=2, sampler=sampler)
        batches = [b[0].tolist() for b in loader]
        assert [i for b in batches for i in b] == list(sampler)
        seen += list(sampler)
    assert sorted(seen) == list(range(10))


def test_distributed_sampler_errors():
    ds = TensorDataset(deepgrad.arange(4))
    with pytest.raises(
        ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler(ds, num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(ds)


def test_torch_import_paths():
    from deepgrad.utils.data.distributed import DistributedSampler as FromTorchPath

    assert FromTorchPath is DistributedSampler
    assert deepgrad.nn.parallel.DistributedDataParallel is deepgrad.nn.parallel.DDP


# ----------------------------------------------------------------------------- hooks
def _hook_trace(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    trace = []
    handle = w.register_post_accumulate_grad_hook(lambda t: trace.append(("w", t.grad.tolist())))
    b.register_post_accumulate_grad_hook(lambda t: trace.append(("b", t.grad.tolist())))
    # w feeds three ops: its hook must run once, after all three contributions are summed
    ((w * 2).sum() + (w * w).sum() * b.sum() + (w * b).sum()).backward()
    trace.append("second backward")
    (w * b).sum().backward()
    handle.remove()
    trace.append("removed")
    (w * b).sum().backward()
    return trace


def test_post_accumulate_grad_hook_matches_torch():
    assert _hook_trace(deepgrad) == _hook_trace(torch)


def test_post_accumulate_grad_hook_on_a_leaf_that_is_the_root():
    for lib in (deepgrad, torch):
        x = lib.tensor(2.0, requires_grad=True)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t, seen=seen: seen.append(float(t.grad)))
        x.backward()
        assert seen == [1.0]


def test_post_accumulate_grad_hook_errors():
    x = deepgrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        deepgrad.ones(2).register_post_accumulate_grad_hook(lambda t: None)


# ----------------------------------------------------------------------------- environment
LAUNCHER_VARS = [
    "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_RANK",
    "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
    "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS", "SLURM_PROCID",
    "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE", "SLURM_STEP_ID",
]  # fmt: skip


@pytest.fixture
def clean_env(monkeypatch):
    for var in LAUNCHER_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, None),
        ({"PMI_RANK": "1", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"},
         ("MPICH mpiexec", 1, 4, 1, 2)),
        ({"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "8",
          "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"},
         ("Open MPI mpiexec", 3, 8, 1, 2)),
        ({"SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1",
          "SLURM_NTASKS_PER_NODE": "4(x2)", "SLURM_STEP_ID": "0"},
         ("Slurm srun", 5, 8, 1, 4)),
        ({"SLURM_PROCID": "0", "SLURM_NTASKS": "8"}, None),  # the sbatch script, not a task
        ({"RANK": "1", "WORLD_SIZE": "2"}, ("torchrun/deepgrad-run", 1, 2, 1, 2)),
    ],
)  # fmt: skip
def test_launch_info_reads_the_launchers_variables(clean_env, env, expected):
    for k, v in env.items():
        clean_env.setenv(k, v)
    info = dist.launch_info()
    got = (
        None
        if info is None
        else (info.launcher, info.rank, info.world_size, info.local_rank, info.local_world_size)
    )
    assert got == expected
    assert dist.launched_world_size() == (1 if expected is None else expected[2])


def test_without_a_process_group():
    assert not dist.is_initialized()
    assert dist.is_available()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.all_reduce(deepgrad.ones(2))
    with pytest.raises(ValueError, match="init_process_group"):
        deepgrad.nn.parallel.DistributedDataParallel(deepgrad.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="only the 'mpi' backend"):
        dist.init_process_group("nccl")


def test_find_mpiexec_prefers_the_one_next_to_python():
    import sys
    from pathlib import Path

    from deepgrad.distributed.run import find_mpiexec

    path = Path(find_mpiexec())
    assert path.name == "mpiexec"
    if (Path(sys.executable).parent / "mpiexec").exists():
        assert path.parent == Path(sys.executable).parent


def test_sync_batchnorm_without_ranks_is_batchnorm():
    """Outside a process group SyncBatchNorm computes what BatchNorm2d computes."""
    deepgrad.manual_seed(0)
    x = deepgrad.randn(6, 3, 4, 4, dtype=deepgrad.float64)
    plain = deepgrad.nn.Sequential(deepgrad.nn.BatchNorm2d(3)).to(deepgrad.float64)
    sync = deepgrad.nn.SyncBatchNorm.convert_sync_batchnorm(
        deepgrad.nn.Sequential(deepgrad.nn.BatchNorm2d(3)).to(deepgrad.float64)
    )
    assert isinstance(sync[0], deepgrad.nn.SyncBatchNorm)
    np.testing.assert_array_equal(sync(x).detach().numpy(), plain(x).detach().numpy())
    np.testing.assert_array_equal(sync[0].running_var.numpy(), plain[0].running_var.numpy())


def test_train_nproc_argument_errors(capsys, clean_env):
    from deepgrad.cli import main

    with pytest.raises(SystemExit) as e:
        main(["train", "--model", "mlp", "--dataset", "iris", "--cv", "3", "--nproc", "2"])
    assert e.value.code == 2
    assert "--cv trains K small models" in capsys.readouterr().err
    clean_env.setenv("PMI_RANK", "0")
    clean_env.setenv("PMI_SIZE", "2")
    with pytest.raises(SystemExit):
        main(["train", "--model", "mlp", "--dataset", "iris", "--nproc", "3"])
    assert "--nproc 3 but this process is one of 2 ranks" in capsys.readouterr().err


# ------------------------------------------------------------ abort: output before the end
def test_abort_waits_for_the_output_pipes_to_be_read():
    """mpiexec loses output still in a pipe when MPI_Abort kills the job; wait until the
    reader has taken every byte (checked with a reader that starts late)."""
    import os
    import threading
    import time

    from deepgrad.distributed.process_group import wait_until_output_is_read

    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"[rank 1] Traceback ...\n" * 100)
        read_at = []

        def late_reader():
            time.sleep(0.3)
            read_at.append(time.monotonic())
            os.read(read_end, 1 << 16)

        reader = threading.Thread(target=late_reader)
        reader.start()
        assert wait_until_output_is_read((write_end,), timeout=30) is True
        returned_at = time.monotonic()
        reader.join()
        assert read_at and read_at[0] <= returned_at  # it waited for the reader
        # nobody reads: it gives up after the timeout instead of hanging the failing rank
        os.write(write_end, b"more\n")
        started = time.monotonic()
        assert wait_until_output_is_read((write_end,), timeout=0.2) is False
        assert time.monotonic() - started >= 0.2
    finally:
        os.close(read_end)
        os.close(write_end)


def test_abort_waits_on_pipes_only(tmp_path):
    from deepgrad.distributed.process_group import wait_until_output_is_read

    with open(tmp_path / "log.txt", "w") as f:  # a file: nothing to wait for
        f.write("x" * 1000)
        f.flush()
        assert wait_until_output_is_read((f.fileno(),), timeout=0) is True


def test_abort_drains_the_output_before_mpi_abort(monkeypatch):
    from deepgrad.distributed import process_group

    events = []

    class World:
        @staticmethod
        def Abort(code):  # noqa: N802 - mpi4py's name
            events.append(("Abort", code))

    class FakeMPI:
        COMM_WORLD = World

    monkeypatch.setattr(process_group, "_mpi", lambda: FakeMPI)
    monkeypatch.setattr(
        process_group, "wait_until_output_is_read", lambda: events.append(("drained",)) or True
    )
    process_group.abort(3)
    assert events == [("drained",), ("Abort", 3)]
