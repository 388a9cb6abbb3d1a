"""Finding a report's row by its name, with an error that lists the names there are."""

from __future__ import annotations

from collections.abc import Sequence


def row_named(rows: Sequence, key: str, *, attr: str, where: str, noun: str):
    """The row whose ``attr`` is ``key``.

    A ``KeyError`` otherwise, saying ``where`` it looked and listing every row's ``attr``:
    ``check_model: no parameter 'fc.w'; parameters: ['fc.weight', 'fc.bias']``.
    """
    for row in rows:
        if getattr(row, attr) == key:
            return row
    have = [getattr(row, attr) for row in rows]
    raise KeyError(f"{where}: no {noun} {key!r}; {noun}s: {have}")
