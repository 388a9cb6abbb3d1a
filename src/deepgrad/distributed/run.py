"""``deepgrad-run``: start a training script on N ranks of this machine, like ``torchrun``.

    deepgrad-run --nproc-per-node 2 train.py --epochs 5
    python -m deepgrad.distributed.run --nproc-per-node 2 -m mypackage.train

It runs ``mpiexec -n N python -m deepgrad.distributed.run SCRIPT ...``; each of those
processes finds itself under ``mpiexec``, sets torchrun's variables (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) for code that reads
them, and runs the script as ``__main__``. On a cluster, start the same command with
``srun`` or your MPI's ``mpiexec`` instead (no ``--nproc-per-node``): each task then runs the
script directly.

If the script raises on one rank, that rank prints its traceback marked ``[rank R]`` and the
whole job is aborted (exit status 1), instead of the other ranks waiting forever in their next
collective.
"""

from __future__ import annotations

import argparse
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

from deepgrad.distributed.environment import launch_info


def find_mpiexec() -> str:
    """The ``mpiexec`` that belongs to mpi4py's MPI library.

    The ``mpich`` wheel installs it next to the Python interpreter (``.venv/bin``), which may
    not be on ``PATH``; an ``mpiexec`` of another MPI on ``PATH`` would start N unrelated
    single-rank processes. So the interpreter's directory comes first, then ``PATH``.
    """
    for folder in (Path(sys.executable).parent, None):
        found = shutil.which("mpiexec", path=None if folder is None else str(folder))
        if found:
            return found
    raise RuntimeError(
        "mpiexec not found: install an MPI for Python, e.g. pip install 'deepgrad[mpi]' (the "
        "mpi4py and mpich wheels), or put your MPI's mpiexec on PATH"
    )


def mpiexec_command(nproc: int, args: list[str]) -> list[str]:
    """``mpiexec -n nproc python ARGS`` with this interpreter."""
    return [find_mpiexec(), "-n", str(nproc), sys.executable, *args]


def launch(nproc: int, args: list[str]) -> int:
    """Run ``python ARGS`` on ``nproc`` ranks and wait; returns the job's exit status."""
    env = dict(os.environ)
    # The cores shared out among the ranks, unless set: N ranks that each start a thread per
    # core would fight over the cores (torchrun sets OMP_NUM_THREADS=1 for the same reason).
    threads = str(max(1, (os.cpu_count() or 1) // nproc))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, threads)
    try:
        return subprocess.call(mpiexec_command(nproc, args), env=env)
    except KeyboardInterrupt:
        return 130


def set_torchrun_environment() -> None:
    """Set ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ... from the launcher's variables."""
    info = launch_info()
    if info is None:
        info_rank, size, local, local_size = 0, 1, 0, 1
    else:
        info_rank, size = info.rank, info.world_size
        local, local_size = info.local_rank, info.local_world_size
    os.environ.setdefault("RANK", str(info_rank))
    os.environ.setdefault("WORLD_SIZE", str(size))
    os.environ.setdefault("LOCAL_RANK", str(local))
    os.environ.setdefault("LOCAL_WORLD_SIZE", str(local_size))
    os.environ.setdefault("MASTER_ADDR", "localhost")  # unused by MPI; some scripts read them
    os.environ.setdefault("MASTER_PORT", "29500")


def run_as_rank(target: str, args: list[str], module: bool) -> int:
    """Run the user's script (or module) as ``__main__`` in this rank's process."""
    set_torchrun_environment()
    sys.argv = [target, *args]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, str(Path(target).resolve().parent))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code and world > 1:
            if not isinstance(e.code, int) and e.code is not None:
                print(f"[rank {os.environ['RANK']}] {e.code}", file=sys.stderr)
            _abort(code)
        return code
    except BaseException:
        if world <= 1:
            raise
        import traceback

        rank = os.environ["RANK"]
        sys.stderr.write(f"[rank {rank}] {traceback.format_exc()}")
        sys.stderr.write(f"[rank {rank}] aborting the job: an exception on one rank ends all\n")
        _abort(1)
    return 0


def _abort(code: int) -> None:
    from deepgrad.distributed.process_group import abort

    abort(code)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepgrad-run",
        description="Run a training script on N ranks of this machine through mpiexec (like "
        "torchrun). Under mpiexec or srun, run it as one rank of that job.",
    )
    parser.add_argument(
        "--nproc-per-node",
        "--nproc_per_node",
        dest="nproc",
        type=int,
        default=None,
        metavar="N",
        help="ranks to start on this machine (default 1; ignored under mpiexec/srun)",
    )
    parser.add_argument(
        "--standalone", action="store_true", help="accepted for torchrun compatibility"
    )
    parser.add_argument("-m", "--module", action="store_true", help="run TARGET as a module")
    parser.add_argument("target", metavar="TARGET", help="the script (or module with -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if launch_info() is not None:  # one rank of a job that mpiexec/srun started
        return run_as_rank(args.target, args.args, args.module)
    nproc = args.nproc or 1
    if nproc < 1:
        print(f"deepgrad-run: error: --nproc-per-node must be >= 1, got {nproc}", file=sys.stderr)
        return 2
    again = ["-m", "deepgrad.distributed.run"] + (["-m"] if args.module else [])
    return launch(nproc, [*again, args.target, *args.args])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
