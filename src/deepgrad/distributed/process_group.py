"""The default process group: MPI's world communicator, as ``torch.distributed`` presents it.

``init_process_group("mpi")`` loads mpi4py, which starts MPI. Every rank then holds a private
duplicate of ``MPI.COMM_WORLD`` (so deepgrad's messages never mix with the user's own MPI
traffic). Only the default group exists: ``group`` arguments accept ``None`` or
:data:`GroupMember.WORLD`.

A failure on one rank must end the whole job: the other ranks would otherwise wait forever in
their next collective. So, in a job of more than one rank, ``init_process_group`` installs an
exception hook that prints the traceback with the rank's number and then calls
``MPI_Abort``, which makes ``mpiexec``/``srun`` stop every rank (deliberate deviation: PyTorch
leaves that to a timeout).
"""

from __future__ import annotations

import sys
from datetime import timedelta

from deepgrad.distributed.environment import launch_info


class _World:
    """The group of all ranks (``dist.group.WORLD``)."""

    def __repr__(self) -> str:
        return "<deepgrad.distributed.group.WORLD>"


class GroupMember:
    WORLD = _World()
    NON_GROUP_MEMBER = None


class group:  # noqa: N801 - torch.distributed.group
    WORLD = GroupMember.WORLD


class Backend:
    """Backend names; deepgrad has one, MPI."""

    MPI = "mpi"
    UNDEFINED = "undefined"


_state: dict = {"comm": None, "previous_excepthook": None}


def is_available() -> bool:
    """True when the MPI backend can be used (mpi4py is installed)."""
    return is_mpi_available()


def is_mpi_available() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_initialized() -> bool:
    return _state["comm"] is not None


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(
            "deepgrad.distributed needs mpi4py and an MPI library: pip install "
            f"'deepgrad[mpi]' (mpi4py and the mpich wheel), or mpi4py against your cluster's MPI "
            f"({e})"
        ) from None
    return MPI


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store=None,
    group_name: str = "",
    pg_options=None,
    device_id=None,
) -> None:
    """Join the job's ranks into the default process group (backend ``"mpi"``).

    Start the processes with ``mpiexec -n N``, ``srun`` or ``deepgrad-run``: MPI itself tells
    each process its rank and the world size, so ``init_method``, ``store`` and the
    ``MASTER_ADDR``/``MASTER_PORT`` of the TCP backends are not needed (and are ignored).
    ``world_size`` and ``rank``, if given, must agree with MPI's. ``timeout`` is accepted for
    compatibility; MPI has no timeout on collectives, but a failing rank aborts the job (see
    the module's docstring), so nothing waits for a rank that has died.
    """
    if is_initialized():
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() != Backend.MPI:
        raise ValueError(
            f"init_process_group: deepgrad has only the 'mpi' backend, got backend={backend!r}. "
            "Use backend='mpi' (or leave it out); gloo and nccl are PyTorch's own"
        )
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    size, me = comm.Get_size(), comm.Get_rank()
    info = launch_info()
    if info is not None and info.world_size != size:
        comm.Free()
        raise RuntimeError(
            f"init_process_group: {info.launcher} started this process as rank {info.rank} of "
            f"{info.world_size}, but MPI sees a world of {size} process(es). The launcher and "
            "the MPI library mpi4py loaded do not match: use the mpiexec of the same MPI "
            "(python -m deepgrad.distributed.run finds it), or under Slurm use srun --mpi=pmi2 "
            "(MPICH) or --mpi=pmix (Open MPI)"
        )
    for name, given, actual in (("world_size", world_size, size), ("rank", rank, me)):
        if given not in (-1, None) and given != actual:
            comm.Free()
            raise ValueError(
                f"init_process_group: {name}={given} was given, but MPI says this process has "
                f"{name} {actual}; leave {name} out (MPI knows it) or start the job with the "
                f"matching number of processes"
            )
    _state["comm"] = comm
    if size > 1:
        _state["previous_excepthook"] = sys.excepthook
        sys.excepthook = _abort_on_exception


def _abort_on_exception(exc_type, exc, tb) -> None:
    import traceback

    comm = _state["comm"]
    me = comm.Get_rank() if comm is not None else "?"
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(f"[rank {me}] {text}")
    sys.stderr.write(f"[rank {me}] aborting the job: an exception on one rank ends all ranks\n")
    sys.stderr.flush()
    abort(1)


def abort(errorcode: int = 1) -> None:
    """End every rank of the job now (``MPI_Abort``): for errors seen by one rank only."""
    sys.stdout.flush()
    sys.stderr.flush()
    wait_until_output_is_read()
    _mpi().COMM_WORLD.Abort(errorcode)


def wait_until_output_is_read(fds=(1, 2), timeout: float = 5.0) -> bool:
    """Wait until the reader of this process's stdout/stderr pipes has taken every byte.

    Why: ``mpiexec`` (MPICH's hydra) reads each rank's output from a pipe and forwards it; on
    ``MPI_Abort`` it kills the job, and output still in a pipe is lost. CI once saw the
    failing-rank test end with no output at all, not even the traceback just written. Once
    the pipes are empty the output is ahead of the abort in hydra's own stream, so it is
    printed. Returns False when the timeout ran out first (nobody reading, for instance);
    outputs that are not pipes (a terminal, a file) have nothing to wait for.
    """
    import os
    import stat
    import struct
    import time

    try:
        import fcntl
        import termios
    except ImportError:  # Windows: no FIONREAD on pipes to ask
        return True

    def is_pipe(fd: int) -> bool:
        try:
            return stat.S_ISFIFO(os.fstat(fd).st_mode)
        except OSError:  # closed: nothing to wait for
            return False

    pipes = [fd for fd in fds if is_pipe(fd)]

    def unread(fd: int) -> int:  # FIONREAD works on a pipe's write end too (Linux, macOS)
        try:
            return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
        except OSError:
            return 0

    deadline = time.monotonic() + timeout
    while any(unread(fd) for fd in pipes):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def destroy_process_group(group=None) -> None:
    """Leave the default process group (MPI itself is finalised when the process exits)."""
    comm = _state["comm"]
    if comm is None:
        return
    _state["comm"] = None
    if _state["previous_excepthook"] is not None:
        sys.excepthook = _state["previous_excepthook"]
        _state["previous_excepthook"] = None
    comm.Free()


def get_comm(group=None):
    """The MPI communicator of ``group`` (the default group is the only one)."""
    comm = _state["comm"]
    if comm is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    if group is not None and group is not GroupMember.WORLD:
        raise ValueError(
            f"deepgrad.distributed has only the default group (group=None or group.WORLD), "
            f"got {group!r}"
        )
    return comm


def get_rank(group=None) -> int:
    """This process's rank, 0 .. world_size - 1."""
    return get_comm(group).Get_rank()


def get_world_size(group=None) -> int:
    """The number of ranks in the group."""
    return get_comm(group).Get_size()


def get_backend(group=None) -> str:
    get_comm(group)
    return Backend.MPI
