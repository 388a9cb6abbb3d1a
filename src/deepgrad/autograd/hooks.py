"""Gradient hooks on leaf tensors: ``Tensor.register_post_accumulate_grad_hook``.

A hook ``hook(tensor)`` runs once per ``backward()`` for each leaf it is registered on, after
that backward has accumulated the leaf's whole gradient into ``tensor.grad`` (all uses of the
leaf summed), as in PyTorch. ``DistributedDataParallel`` uses it to start a bucket's
all-reduce while the rest of the backward pass is still running.

The hooks live in one registry keyed by tensor identity rather than in a slot of every tensor,
so tensors stay small and a backward pass with no hooks registered anywhere costs one check
of an empty dict.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable

# id(tensor) -> (weak reference to the tensor, {handle id: hook}); entries vanish with the tensor.
POST_ACCUMULATE_GRAD_HOOKS: dict[int, tuple[weakref.ref, dict[int, Callable]]] = {}
_next_id = itertools.count()

# Called after every graph node of a backward pass that has hooks, while non-empty. DDP puts a
# function here while its all-reduces are in flight: MPI moves a nonblocking message only
# inside MPI calls, so without a poll between the ops the message would wait for the end of
# backward instead of travelling while backward computes.
BACKWARD_PROGRESS: list[Callable[[], None]] = []


class RemovableHandle:
    """Returned by ``register_post_accumulate_grad_hook``: ``handle.remove()`` unregisters it."""

    def __init__(self, key: int, hook_id: int) -> None:
        self._key = key
        self.id = hook_id

    def remove(self) -> None:
        entry = POST_ACCUMULATE_GRAD_HOOKS.get(self._key)
        if entry is not None:
            entry[1].pop(self.id, None)
            if not entry[1]:
                del POST_ACCUMULATE_GRAD_HOOKS[self._key]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register_post_accumulate_grad_hook(tensor, hook: Callable) -> RemovableHandle:
    """Run ``hook(tensor)`` after each backward pass has accumulated ``tensor.grad``."""
    if tensor._ctx is not None:
        raise RuntimeError(
            "post accumulate grad hooks cannot be registered on non-leaf tensors: this tensor "
            f"was computed by {tensor._ctx.op_name()}; register the hook on the leaf (a "
            "parameter or a tensor created with requires_grad=True)"
        )
    if not tensor.requires_grad:
        raise RuntimeError(
            "cannot register a hook on a tensor that doesn't require gradient; call "
            "tensor.requires_grad_() first"
        )
    key = id(tensor)
    entry = POST_ACCUMULATE_GRAD_HOOKS.get(key)
    if entry is None or entry[0]() is not tensor:
        entry = (weakref.ref(tensor, lambda _, k=key: POST_ACCUMULATE_GRAD_HOOKS.pop(k, None)), {})
        POST_ACCUMULATE_GRAD_HOOKS[key] = entry
    hook_id = next(_next_id)
    entry[1][hook_id] = hook
    return RemovableHandle(key, hook_id)


def hooks_of(tensor) -> dict[int, Callable] | None:
    """The hooks registered on ``tensor``, or None."""
    entry = POST_ACCUMULATE_GRAD_HOOKS.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]


def run_hooks(tensor) -> None:
    hooks = hooks_of(tensor)
    if hooks:
        for hook in list(hooks.values()):
            hook(tensor)


class PendingLeaves:
    """Counts, for one backward pass, the uses of each hooked leaf still to be back-propagated,
    so a leaf's hooks run when its last gradient contribution has been added (and not once
    per contribution, which is what a leaf feeding several ops would otherwise get)."""

    def __init__(self, order) -> None:
        self.left: dict[int, int] = {}
        self.reached: set[int] = set()
        for ctx in order:
            for inp, need in zip(ctx.inputs, ctx.needs_input_grad):
                if need and inp._ctx is None and hooks_of(inp) is not None:
                    self.left[id(inp)] = self.left.get(id(inp), 0) + 1

    def done(self, ctx) -> None:
        """``ctx`` has handed out its gradients (or had none to hand out)."""
        for poll in BACKWARD_PROGRESS:
            poll()
        for inp, need in zip(ctx.inputs, ctx.needs_input_grad):
            key = id(inp)
            if need and key in self.left:
                self.left[key] -= 1
                if self.left[key] == 0 and key in self.reached:
                    run_hooks(inp)
