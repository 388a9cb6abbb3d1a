"""Which rank this process is, read from the environment that a launcher sets, without MPI.

``mpiexec`` (MPICH's Hydra: ``PMI_RANK``/``PMI_SIZE``; Open MPI: ``OMPI_COMM_WORLD_*``),
Slurm's ``srun`` (``SLURM_PROCID``/``SLURM_NTASKS``) and torchrun-style launchers (``RANK``/
``WORLD_SIZE``, also set by ``deepgrad-run``) each name the rank differently. The ``deepgrad``
command reads them to decide, before it loads MPI, whether it runs as one rank of a job; and
``init_process_group`` compares them with what MPI reports, so a job whose launcher and MPI
library do not match fails with an explanation instead of running N independent copies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# (launcher, rank variable, size variable, local rank variable, local size variable)
LAUNCHERS = (
    ("torchrun/deepgrad-run", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"),
    ("Open MPI mpiexec", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
     "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("MPICH mpiexec", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("Slurm srun", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"),
)  # fmt: skip


@dataclass(frozen=True)
class LaunchInfo:
    """This process's place in a job, as its launcher described it."""

    launcher: str
    rank: int
    world_size: int
    local_rank: int
    local_world_size: int


def _int(name: str) -> int | None:
    value = os.environ.get(name, "")
    # Slurm writes per-node task counts like "2(x3)"; the count before "(" is this node's.
    value = value.split("(")[0].split(",")[0]
    return int(value) if value.strip().isdigit() else None


def launch_info() -> LaunchInfo | None:
    """The rank and size this process was started with, or None outside a launcher.

    The first launcher in :data:`LAUNCHERS` whose variables are set wins. Slurm's variables
    count only inside a task started by ``srun`` (``SLURM_STEP_ID`` set): the batch script of
    ``sbatch`` is a single process even when its allocation has many tasks.
    """
    for name, rank_var, size_var, local_var, local_size_var in LAUNCHERS:
        rank, size = _int(rank_var), _int(size_var)
        if rank is None or size is None:
            continue
        if name == "Slurm srun" and "SLURM_STEP_ID" not in os.environ:
            continue  # the batch script itself, not a task started by srun
        local = _int(local_var)
        local_size = _int(local_size_var)
        return LaunchInfo(
            name,
            rank,
            size,
            rank if local is None else local,
            size if local_size is None else local_size,
        )
    return None


def launched_world_size() -> int:
    """The number of ranks of the job this process belongs to (1 outside a launcher)."""
    info = launch_info()
    return 1 if info is None else info.world_size
