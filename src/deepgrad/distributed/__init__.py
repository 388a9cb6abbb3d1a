"""``deepgrad.distributed``: ``torch.distributed``'s API on MPI (mpi4py).

Start N processes with ``mpiexec -n N python train.py`` (or ``srun``, or ``deepgrad-run``),
then in each::

    import deepgrad.distributed as dist
    dist.init_process_group("mpi")
    dist.all_reduce(t, op=dist.ReduceOp.SUM)     # t summed over the ranks, in place

``deepgrad.nn.parallel.DistributedDataParallel`` averages gradients with these collectives and
``deepgrad.data.DistributedSampler`` gives each rank its share of the data. See
docs/DISTRIBUTED.md.
"""

from deepgrad.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    gather,
    reduce,
    scatter,
)
from deepgrad.distributed.environment import LaunchInfo, launch_info, launched_world_size
from deepgrad.distributed.process_group import (
    Backend,
    GroupMember,
    abort,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)

__all__ = [
    "Backend",
    "GroupMember",
    "LaunchInfo",
    "ReduceOp",
    "Work",
    "abort",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "gather",
    "get_backend",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "launch_info",
    "launched_world_size",
    "reduce",
    "scatter",
]
