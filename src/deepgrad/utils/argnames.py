"""How an error names an argument: ``val_split=`` to a Python caller, ``--val-split`` to a
person at the ``deepgrad`` command.

The library and the training runner write ``arg("val_split")`` in their messages; the command
runs its handlers inside :func:`command_line`, so the same error reads
``--val-split 0.95: ...`` there and ``val_split=0.95: ...`` from Python.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_ON_COMMAND_LINE = contextvars.ContextVar("deepgrad_on_command_line", default=False)
_NOTHING = object()

# Arguments whose flag is not the name with dashes.
FLAGS = {"path": "--dataset csv:", "folds": "--cv"}


@contextmanager
def command_line() -> Iterator[None]:
    """Inside this block, :func:`arg` spells arguments as the ``deepgrad`` command's flags."""
    token = _ON_COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _ON_COMMAND_LINE.reset(token)


def on_command_line() -> bool:
    """Whether the caller is the ``deepgrad`` command (see :func:`command_line`)."""
    return _ON_COMMAND_LINE.get()


def arg(name: str, value=_NOTHING) -> str:
    """``name`` as the user typed it: ``val_split=`` / ``val_split=0.5`` from Python,
    ``--val-split`` / ``--val-split 0.5`` on the command line."""
    if on_command_line():
        flag = FLAGS.get(name, "--" + name.replace("_", "-"))
        if value is _NOTHING:
            return flag
        return f"{flag}{value}" if flag.endswith(":") else f"{flag} {value}"
    return f"{name}=" if value is _NOTHING else f"{name}={value!r}"


def cli_arg_names(*names: str) -> dict[str, str] | None:
    """``{name: flag}`` for a function that takes an ``arg_names`` table (such as
    :func:`deepgrad.data.csv_dataset`) on the command line; None (its Python names) otherwise."""
    if not on_command_line():
        return None
    return {name: arg(name) for name in names}
