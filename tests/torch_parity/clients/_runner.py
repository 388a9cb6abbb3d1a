"""Run every client program under one framework in this one process; write what each printed.

    python tests/torch_parity/clients/_runner.py torch|deepgrad OUT.json PROGRAM.py ...

Under ``deepgrad`` the modules a PyTorch program imports (``torch``, ``torch.nn``,
``torch.nn.functional``, ``torch.optim``, ``torch.utils.data``, ``torchvision``, ...) are
deepgrad's, installed in ``sys.modules`` before the programs run, so each program runs
unchanged. Under ``torch`` they are PyTorch's, except ``torchvision``: it is not installable
beside torch 2.13 here, so ``_torchvision_standin.py`` plays it, built from torch and NumPy
following torchvision's documented behaviour.

``torch.compile`` uses dynamo's ``eager`` backend in the torch run (see ``install_torch``).
Both runs draw their random numbers from one NumPy stream (``_shared_random.py``), and so do
deepgrad.vision's random transforms (see ``install_deepgrad``). Each program
runs in a fresh temporary directory (for the files it saves), with ``__name__ == "__main__"``;
its stdout is captured on its own, and an exception is recorded with the program's output so far.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import runpy
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _shared_random  # noqa: E402


def install_deepgrad() -> None:
    import deepgrad
    import deepgrad.autograd
    import deepgrad.data
    import deepgrad.nn
    import deepgrad.nn.functional
    import deepgrad.nn.init
    import deepgrad.optim
    import deepgrad.optim.lr_scheduler
    import deepgrad.utils
    import deepgrad.utils.data

    aliases = {
        "torch": deepgrad,
        "torch.nn": deepgrad.nn,
        "torch.nn.functional": deepgrad.nn.functional,
        "torch.nn.init": deepgrad.nn.init,
        "torch.optim": deepgrad.optim,
        "torch.optim.lr_scheduler": deepgrad.optim.lr_scheduler,
        "torch.utils": deepgrad.utils,
        "torch.utils.data": deepgrad.utils.data,
        "torch.autograd": deepgrad.autograd,
    }
    try:
        import deepgrad.vision
        import deepgrad.vision.datasets
        import deepgrad.vision.transforms
        import deepgrad.vision.utils

        aliases.update(
            {
                "torchvision": deepgrad.vision,
                "torchvision.datasets": deepgrad.vision.datasets,
                "torchvision.transforms": deepgrad.vision.transforms,
                "torchvision.utils": deepgrad.vision.utils,
            }
        )
    except ImportError:  # not there yet: the torchvision programs fail on their import
        pass
    sys.modules.update(aliases)
    # and every other loaded submodule, for imports such as torch.utils.data.sampler
    for name, module in list(sys.modules.items()):
        if name.startswith("deepgrad."):
            sys.modules.setdefault("torch." + name.removeprefix("deepgrad."), module)
    _shared_random.install(
        deepgrad, deepgrad.nn, deepgrad.nn.functional, deepgrad.nn.init, deepgrad.data
    )
    # deepgrad.utils.data re-exports deepgrad.data's names: give it the wrapped one too
    deepgrad.utils.data.random_split = deepgrad.data.random_split
    if "torchvision" in aliases:
        # deepgrad.vision's random transforms draw from deepgrad's NumPy generator where
        # torchvision calls torch.rand(1) and torch.randint(..., size=(1,)), one number each:
        # point them at the shared stream, which gives the same numbers for the same draws
        deepgrad.vision.transforms.rng = lambda generator=None: _shared_random.stream()


def install_torch() -> None:
    import _torchvision_standin
    import torch
    import torch.nn
    import torch.nn.functional
    import torch.nn.init
    import torch.utils.data

    torch.set_num_threads(1)
    # Inductor spends seconds compiling C++ per graph (and trips over the wrapped random
    # functions); dynamo with the eager backend still traces the program's model, and the
    # numbers are eager's, which is what deepgrad's compile() promises.
    compile_ = torch.compile

    def compile_eager(model=None, **kwargs):
        kwargs["backend"] = "eager"
        return compile_(**kwargs) if model is None else compile_(model, **kwargs)

    torch.compile = compile_eager
    sys.modules.update(
        {
            "torchvision": _torchvision_standin,
            "torchvision.datasets": _torchvision_standin.datasets,
            "torchvision.transforms": _torchvision_standin.transforms,
            "torchvision.utils": _torchvision_standin.utils,
        }
    )
    _shared_random.install(torch, torch.nn, torch.nn.functional, torch.nn.init, torch.utils.data)


def reset_globals() -> None:
    """Undo what a program may have set for the whole process (as a fresh interpreter would)."""
    fw = sys.modules["torch"]
    if hasattr(fw, "set_default_device"):
        fw.set_default_device(None)  # torch's default device is a mode that also wraps calls
    fw.set_default_dtype(fw.float32)
    fw.set_grad_enabled(True)


def run_program(path: Path) -> dict:
    out = io.StringIO()
    error = None
    start = time.perf_counter()
    _shared_random.reseed(0)
    np.random.seed(0)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(str(path), run_name="__main__")
        except BaseException:  # noqa: BLE001 - any failure is a result to report
            error = traceback.format_exc(limit=-3)
        finally:
            os.chdir(cwd)
            reset_globals()
    seconds = round(time.perf_counter() - start, 3)  # for finding slow programs; not compared
    return {"stdout": out.getvalue(), "error": error, "seconds": seconds}


def main(argv: list[str]) -> None:
    framework, out_path, *programs = argv
    {"torch": install_torch, "deepgrad": install_deepgrad}[framework]()
    results = {Path(p).stem: run_program(Path(p).resolve()) for p in programs}
    Path(out_path).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
