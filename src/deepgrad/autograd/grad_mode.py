"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Each works as a context manager and as a decorator, like PyTorch's.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    """Per thread, as in PyTorch: ``no_grad`` in one thread leaves the others recording."""

    enabled = True


state = _State()


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``, ``inference_mode()`` or ``set_grad_enabled(False)``."""
    return state.enabled


class _GradMode:
    mode = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self.mode
        return self

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: operations inside record no graph."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Context manager and decorator: turn recording back on inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """``set_grad_enabled(False)`` acts like ``no_grad``; it also switches at once when called."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = state.enabled
        state.enabled = self.mode  # like torch: calling it (without `with`) switches immediately

    def __enter__(self):
        return self

    def __call__(self, fn):
        state.enabled = self._prev
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(no_grad):  # noqa: N801
    """Alias of ``no_grad`` (deepgrad has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode
