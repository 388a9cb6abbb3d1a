"""The autograd engine stays small enough to read in one sitting (issue 17, part 5).

What counts: every line (code, comments, docstrings, blank lines) of the engine core:

- ``autograd/engine.py``: the backward pass;
- ``autograd/op.py``: the graph node and ``Op.apply`` (the issue's ``function.py``, renamed);
- ``autograd/grad_mode.py``: recording on and off.

Not counted: the helpers they call, each holding one idea of its own (``graph.py`` walks the
graph, ``gradient.py`` un-broadcasts and accumulates, ``op_errors.py`` writes the errors,
``node_names.py`` names nodes as PyTorch does, ``hooks.py``), and ``function.py``, which is now
PyTorch's user-facing custom-function API built on ``Op``, not the engine.
"""

from pathlib import Path

import deepgrad.autograd

ENGINE_CORE = ("engine.py", "op.py", "grad_mode.py")
LINE_BUDGET = 320


def test_engine_core_fits_its_line_budget():
    folder = Path(deepgrad.autograd.__file__).parent
    lines = {name: len((folder / name).read_text().splitlines()) for name in ENGINE_CORE}
    assert sum(lines.values()) <= LINE_BUDGET, (
        f"the autograd engine core is {sum(lines.values())} lines ({lines}), over its budget of "
        f"{LINE_BUDGET}: move a self-contained helper into a module of its own"
    )
