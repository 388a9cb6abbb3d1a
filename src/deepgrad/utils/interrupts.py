"""Ctrl-C held back while a block that must not be cut in two runs.

Python turns SIGINT into a ``KeyboardInterrupt`` at the next bytecode boundary, wherever that
is. Most code survives that. The import of an extension module does not always: matplotlib's
``ft2font`` (C++, pybind11) keeps its enum specifications, ``(base class name, [(name,
value), ...])`` tuples, in a static C++ map that its module init replaces with the enum classes
it creates in Python. A ``KeyboardInterrupt`` that cuts this init short leaves tuples in the
map that only C++ owns. The map's destructor runs from ``exit()``, after ``Py_FinalizeEx``;
freeing a tuple there, without a thread state, aborts the process ("Fatal Python error:
PyThreadState_Get: ... the GIL is released", exit -6), whatever exit status the program chose.
The core dump of such a run (a Ctrl-C during ``deepgrad train``'s first plot) shows exactly
that: ``exit`` -> ``~unordered_map<string, pybind11::object>`` in ``ft2font.so`` ->
``tupledealloc`` of a ``(str, list)`` -> ``PyThreadState_Get``. Imports like this one go in
:func:`interrupts_deferred`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Run the block with SIGINT only recorded; afterwards, hand a recorded one to the handler
    that was in place (Python's default raises ``KeyboardInterrupt`` there).

    Signal handlers can only be set from the main thread; elsewhere the block runs as it is
    (SIGINT is delivered to the main thread anyway).
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is None  # set from C: it could not be put back
    ):
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)
