"""``SyncBatchNorm``: batch normalisation with the statistics of the global batch of all ranks.

Under ``DistributedDataParallel`` a plain ``BatchNorm`` normalises each rank's samples with
that rank's mean and variance; with small per-rank batches those are noisy. ``SyncBatchNorm``
sums over all ranks instead, so N ranks with B samples each normalise exactly as one process
with N * B samples. Per channel, with n_r values on rank r and N = sum_r n_r:

    forward:   mu = (1/N) sum_r sum x,   var = (1/N) sum_r sum (x - mu)^2          (2 all-reduces)
    backward:  dx = gamma / sqrt(var + eps) (g - (1/N) sum_r sum g
                                               - x_hat (1/N) sum_r sum g x_hat)   (1 all-reduce)

``dgamma`` and ``dbeta`` stay local sums: DDP averages them with the other gradients. Outside
training, or without an initialised process group of more than one rank, it is ``BatchNorm``.
"""

from __future__ import annotations

import numpy as np

from deepgrad.autograd.op import Op
from deepgrad.nn.modules.batchnorm import _BatchNorm
from deepgrad.tensor import Tensor


def _allreduce_sum(comm, arr: np.ndarray) -> np.ndarray:
    from mpi4py import MPI

    buf = np.ascontiguousarray(arr)
    comm.Allreduce(MPI.IN_PLACE, buf, MPI.SUM)
    return buf


class SyncBatchNormOp(Op):
    """Inputs (x, [gamma, beta]); the sums over the batch axes are all-reduced over ``comm``."""

    def forward(ctx, x, weight=None, bias=None, eps=1e-5, comm=None, stats=None):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        local = np.concatenate([[x.size // x.shape[1]], x.sum(axis=axes)]).astype(x.dtype)
        total = _allreduce_sum(comm, local)
        n = int(round(float(total[0])))
        mu = (total[1:] / n).reshape(shape)
        centred = x - mu
        var = _allreduce_sum(comm, (centred * centred).sum(axis=axes)) / n
        inv_std = (1 / np.sqrt(var + eps)).reshape(shape)
        x_hat = centred * inv_std
        if stats is not None:
            stats["mean"] = mu.reshape(-1)
            stats["var"] = var * (n / max(n - 1, 1))
        out = x_hat * weight.reshape(shape) if weight is not None else x_hat.copy()
        if bias is not None:
            out += bias.reshape(shape)
        ctx.saved = (x_hat, inv_std, weight)
        ctx.axes, ctx.n, ctx.comm = axes, n, comm
        return out

    def backward(ctx, g):
        x_hat, inv_std, w = ctx.saved
        axes, n = ctx.axes, ctx.n
        shape = inv_std.shape
        need = ctx.needs_input_grad
        sum_g = g.sum(axis=axes)
        sum_gx = (g * x_hat).sum(axis=axes)
        gw = sum_gx.copy() if len(need) > 1 and need[1] else None
        gb = sum_g.copy() if len(need) > 2 and need[2] else None
        gx = None
        if need[0]:
            # Every rank must take part in this all-reduce, whether or not it needs dx.
            total = _allreduce_sum(ctx.comm, np.concatenate([sum_g, sum_gx]))
            c = sum_g.size
            scale = inv_std * w.reshape(shape) if w is not None else inv_std
            gx = g - (total[:c] / n).reshape(shape)
            gx -= x_hat * (total[c:] / n).reshape(shape)
            gx *= scale
        return gx, gw, gb


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over the global batch of all ranks (see the module docstring).

    Same arguments as ``BatchNorm2d`` plus ``process_group``; any input of shape (N, C, ...).
    Turn the BatchNorm layers of a model into it with
    ``nn.SyncBatchNorm.convert_sync_batchnorm(model)`` before wrapping it in DDP. Every rank
    must call forward and backward the same number of times (the statistics are collectives).
    """

    _dims = (2, 3, 4, 5)
    _shape_doc = "(N, C, ...)"

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group=None,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _comm(self):
        from deepgrad import distributed as dist

        if not dist.is_initialized() or dist.get_world_size(self.process_group) == 1:
            return None
        return dist.process_group.get_comm(self.process_group)

    def forward(self, input: Tensor) -> Tensor:
        comm = self._comm() if self.training else None
        if comm is None:
            return super().forward(input)
        self._check_input(input)
        factor = self._averaging_factor()
        affine = () if self.weight is None else (self.weight, self.bias)
        stats = {} if self.track_running_stats else None
        out = SyncBatchNormOp.apply(input, *affine, eps=self.eps, comm=comm, stats=stats)
        if stats is not None:
            for buf, value in (
                (self.running_mean, stats["mean"]),
                (self.running_var, stats["var"]),
            ):
                r = buf._data
                r *= 1 - factor
                r += factor * value.astype(r.dtype, copy=False)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm layer replaced by a SyncBatchNorm that shares its
        parameters and buffers (the module itself, when it is a BatchNorm)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
            )
            for name in ("weight", "bias"):
                if name in module._parameters:
                    sync._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                sync._buffers[name] = module._buffers[name]
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
