"""``deepgrad train`` on several ranks: what changes from a single-process run.

- Each rank trains the same model (``DistributedDataParallel``) on its share of every batch
  (``DistributedSampler``, seeded with the run's seed); ``--batch-size`` is per rank, so the
  global batch is ``ranks x batch size``, as with PyTorch.
- Only rank 0 writes the run folder (checkpoints, config, pictures, report) and draws the
  progress bar; the others train and keep quiet.
- Every rank evaluates the same test data with the same weights, so the numbers agree; the
  train loss and accuracy in the history are rank 0's share of each batch.
- Checkpoints hold the unwrapped model, exactly as in a single-process run, so a run can be
  resumed, evaluated or used for predictions with any number of ranks.
"""

from __future__ import annotations

import dataclasses

from deepgrad.train.callbacks import Callback, ModelCheckpoint


def world_size() -> int:
    """Ranks of the default process group (1 when there is none)."""
    from deepgrad import distributed as dist

    return dist.get_world_size() if dist.is_initialized() else 1


def rank() -> int:
    from deepgrad import distributed as dist

    return dist.get_rank() if dist.is_initialized() else 0


def is_main_process() -> bool:
    """True on rank 0, and in a single process: the one that writes files and prints."""
    return rank() == 0


def barrier() -> None:
    """Wait for all ranks (nothing to do in a single process)."""
    if world_size() > 1:
        from deepgrad import distributed as dist

        dist.barrier()


def init_from_environment() -> bool:
    """Join the job's process group when this process was started as one rank of several
    (``mpiexec``, ``srun``, ``deepgrad-run``); returns whether it did."""
    from deepgrad import distributed as dist

    if dist.launched_world_size() <= 1 or dist.is_initialized():
        return dist.is_initialized()
    dist.init_process_group("mpi")
    return True


class SetEpoch(Callback):
    """Gives the ``DistributedSampler`` each epoch's number, so every epoch has its own order
    (the same on all ranks) and a resumed run continues with the order it would have had."""

    def __init__(self, sampler) -> None:
        self.sampler = sampler

    def on_epoch_end(self, state, logs) -> None:
        self.sampler.set_epoch(state.epoch + 1)


class MainRankCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that saves the unwrapped model, on rank 0 only."""

    def _save(self, state) -> None:
        model = getattr(state.model, "module", state.model)
        if is_main_process():
            super()._save(dataclasses.replace(state, model=model))
        else:
            self._saved_epoch = state.epoch


def prepare_training(model, dataset, batch_size: int, seed: int, initial_epoch: int):
    """``(model, loader, callbacks)`` for data-parallel training of ``model`` on ``dataset``."""
    from deepgrad.data import DataLoader, DistributedSampler
    from deepgrad.nn.parallel import DistributedDataParallel

    sampler = DistributedSampler(dataset, shuffle=True, seed=seed)
    sampler.set_epoch(initial_epoch)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler)
    return DistributedDataParallel(model), loader, [SetEpoch(sampler)]
