"""``DistributedDataParallel``: train one model on N ranks, each on its share of every batch.

Every rank holds the whole model and runs forward and backward on its own ``B`` samples; the
gradients are then averaged over the ranks, so each optimiser step applies

    g = (1/N) sum_r g_r,   g_r = d/dtheta (1/B) sum_{i in batch_r} L(x_i, y_i, theta),

which is the gradient of the mean loss over the global batch of ``N * B`` samples. Starting
from the same weights (rank 0's, broadcast at construction), all ranks take the same step and
stay identical without ever exchanging weights again.

The averaging overlaps the backward pass. Parameters are grouped into buckets, in reverse
order of ``module.parameters()`` (roughly the order in which backward produces their
gradients); a hook on each parameter (``register_post_accumulate_grad_hook``) counts its
bucket's finished gradients, and a full bucket is flattened into one buffer and sent off with
a nonblocking ``MPI_Iallreduce`` while backward goes on with the earlier layers. When the last
bucket is started, the hook waits for all of them and writes the averages back into
``param.grad``. MPI moves a nonblocking message only inside MPI calls, so while buckets are in
flight the engine calls ``MPI_Test`` on them between backward's ops. Buckets start in index
order on every rank, because MPI matches nonblocking collectives by the order in which they
are issued.

As in PyTorch, BatchNorm layers normalise with their own rank's batch statistics, and with
``broadcast_buffers=True`` every forward in training mode first copies rank 0's buffers (the
running statistics) to all ranks; ``nn.SyncBatchNorm`` computes the statistics over the whole
global batch instead.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from deepgrad.autograd.hooks import BACKWARD_PROGRESS
from deepgrad.nn.module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's: a small first bucket starts communication early


class _Bucket:
    """Parameters whose gradients travel together in one flat buffer."""

    def __init__(self, params: list, dtype: np.dtype) -> None:
        self.params = params
        self.sizes = [p._data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        self.buffer = np.empty(self.offsets[-1], dtype=dtype)
        self.ready = 0
        self.request = None

    def pack(self) -> None:
        for p, lo, hi in zip(self.params, self.offsets, self.offsets[1:]):
            self.buffer[lo:hi] = p.grad._data.reshape(-1)

    def unpack(self, scale: float) -> None:
        self.buffer *= scale
        for p, lo, hi in zip(self.params, self.offsets, self.offsets[1:]):
            g = p.grad._data
            if g.flags.writeable:
                g[...] = self.buffer[lo:hi].reshape(g.shape)
            else:  # pragma: no cover - the engine stores writeable gradients
                p.grad._data = self.buffer[lo:hi].reshape(g.shape).copy()


class DistributedDataParallel(Module):
    """Wrap ``module`` so that ``backward()`` averages its gradients over all ranks.

    Call ``deepgrad.distributed.init_process_group()`` first; build the same model on every
    rank (rank 0's parameters and buffers are copied to the others here). Then train as usual,
    feeding each rank different samples (``DistributedSampler``)::

        model = DistributedDataParallel(net)
        loss = loss_fn(model(x), y); loss.backward(); optimizer.step()

    Args:
        module: the model; ``ddp.module`` is it, unwrapped (save ``ddp.module.state_dict()``).
        broadcast_buffers: copy rank 0's buffers to all ranks at each training forward.
        bucket_cap_mb: the largest bucket, in MiB (default 25, and 1 MiB for the first bucket,
            as PyTorch). Smaller buckets start communicating earlier; more buckets cost more
            messages.
        device_ids, output_device, dim, process_group, gradient_as_bucket_view, static_graph:
            accepted for compatibility (one CPU device, the default group).
        find_unused_parameters: must stay False: every parameter that requires grad must
            receive a gradient in each backward pass. deepgrad does not search the graph for
            unused parameters (deviation); freeze them with ``requires_grad_(False)`` instead.

    ``comm_stats`` (deepgrad only) counts ``iterations`` and ``wait_seconds``, the time backward
    spent blocked on all-reduces that were not finished yet: the part of communication not
    hidden behind computation.
    """

    def __init__(
        self,
        module: Module,
        device_ids=None,
        output_device=None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group=None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        **kwargs,
    ) -> None:
        super().__init__()
        from deepgrad import distributed as dist

        if find_unused_parameters:
            raise ValueError(
                "DistributedDataParallel: find_unused_parameters=True is not supported by "
                "deepgrad; give every trainable parameter a gradient in each step, or freeze "
                "the unused ones with requires_grad_(False) before wrapping the model"
            )
        if not dist.is_initialized():
            raise ValueError(
                "DistributedDataParallel: the default process group has not been initialized; "
                "call deepgrad.distributed.init_process_group() first (and start the script "
                "with mpiexec, srun or deepgrad-run)"
            )
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        self.world_size = dist.get_world_size(process_group)
        self.comm_stats = {"iterations": 0, "wait_seconds": 0.0}
        self._comm = dist.process_group.get_comm(process_group)
        cap = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        self.bucket_cap_bytes = int(cap * 1024 * 1024)
        self._sync_state()
        self._buckets = self._make_buckets(min(_FIRST_BUCKET_BYTES, self.bucket_cap_bytes))
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._next = 0  # the next bucket to start, in index order
        self._handles = [
            p.register_post_accumulate_grad_hook(self._grad_ready)
            for b in self._buckets
            for p in b.params
        ]

    # ------------------------------------------------------------------ set-up
    def _sync_state(self) -> None:
        """Give every rank rank 0's parameters and buffers."""
        from deepgrad.distributed import broadcast

        for t in self.module.state_dict().values():
            broadcast(t, src=0, group=self.process_group)

    def _make_buckets(self, first_cap: int) -> list[_Bucket]:
        params = [p for p in self.module.parameters() if p.requires_grad]
        if len({id(p) for p in params}) != len(params):  # shared weights appear once
            seen, unique = set(), []
            for p in params:
                if id(p) not in seen:
                    seen.add(id(p))
                    unique.append(p)
            params = unique
        buckets: list[_Bucket] = []
        current: list = []
        size = 0
        cap = first_cap
        for p in reversed(params):
            nbytes = p._data.nbytes
            if current and (size + nbytes > cap or p._data.dtype != current[0]._data.dtype):
                buckets.append(_Bucket(current, current[0]._data.dtype))
                current, size, cap = [], 0, self.bucket_cap_bytes
            current.append(p)
            size += nbytes
        if current:
            buckets.append(_Bucket(current, current[0]._data.dtype))
        return buckets

    # ------------------------------------------------------------------ the hooks
    def _grad_ready(self, param) -> None:
        if not self.require_backward_grad_sync:
            return
        bucket = self._bucket_of[id(param)]
        bucket.ready += 1
        while self._next < len(self._buckets):
            b = self._buckets[self._next]
            if b.ready < len(b.params):
                break
            self._start(b)
            self._next += 1
        if self._next == len(self._buckets):
            self._finish()

    def _start(self, bucket: _Bucket) -> None:
        from mpi4py import MPI

        bucket.pack()
        bucket.request = self._comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, MPI.SUM)
        if self._poll not in BACKWARD_PROGRESS:
            BACKWARD_PROGRESS.append(self._poll)

    def _poll(self) -> None:
        """Let MPI move the messages in flight (called between backward's ops)."""
        for b in self._buckets[: self._next]:
            if b.request is not None and b.request.Test():
                b.request = None

    def _finish(self) -> None:
        if self._poll in BACKWARD_PROGRESS:
            BACKWARD_PROGRESS.remove(self._poll)
        started = time.perf_counter()
        for b in self._buckets:
            if b.request is not None:
                b.request.Wait()
                b.request = None
        self.comm_stats["wait_seconds"] += time.perf_counter() - started
        self.comm_stats["iterations"] += 1
        scale = 1.0 / self.world_size
        for b in self._buckets:
            b.unpack(scale)
            b.ready = 0
        self._next = 0

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if any(b.ready for b in self._buckets) and self.require_backward_grad_sync:
            missing = [
                name
                for name, p in self.module.named_parameters()
                if id(p) in self._bucket_of
                and self._bucket_of[id(p)].ready < len(self._bucket_of[id(p)].params)
            ]
            raise RuntimeError(
                "DistributedDataParallel: the previous backward pass did not give every "
                "parameter a gradient, so the gradient averaging never finished (parameters "
                f"in unfinished buckets: {', '.join(missing[:8])}). Make every parameter that "
                "requires grad take part in the loss, or freeze unused ones with "
                "requires_grad_(False) before wrapping the model"
            )
        if self.training and self.broadcast_buffers and self.world_size > 1:
            from deepgrad.distributed import broadcast

            for buf in self.module.buffers():
                broadcast(buf, src=0, group=self.process_group)
        return self.module(*inputs, **kwargs)

    @contextmanager
    def no_sync(self):
        """Inside this block backward only accumulates gradients locally; the first backward
        after it averages everything accumulated (gradient accumulation over micro-batches
        with one all-reduce)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
