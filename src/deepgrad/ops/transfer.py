"""Moving a tensor between the CPU and a GPU as a differentiable op.

``x.to("cuda")`` on a tensor that needs a gradient records this op, so the gradient that
arrives on the GPU is copied back to the CPU leaf (and the other way round), as in PyTorch.
"""

from __future__ import annotations

from deepgrad.autograd.op import Op
from deepgrad.device import device_of, move


class ToDevice(Op):
    """y = x on another device; dy/dx = identity (the gradient is moved back)."""

    #: Its output is on another device than its input, on purpose (see ``Op.apply``).
    crosses_devices = True

    move = staticmethod(move)

    def forward(ctx, a, device):
        ctx.source = device_of(a)
        return move(a, device)

    def backward(ctx, g):
        return move(g, ctx.source)
