"""Client-style PyTorch programs run under torch and under deepgrad must print the same things.

Each program in ``tests/torch_parity/clients/`` is ordinary PyTorch code (``import torch``,
``torch.nn``,
``torch.utils.data``, ``torchvision``), one per idiom family of public teaching code. All of
them run in one subprocess per framework (``clients/_runner.py``), which saves starting Python
and importing torch 40 times; the two runs go side by side. Then each program's output is
compared: the text exactly, after writing deepgrad's module prefix ``deepgrad.`` as ``torch.``
(``deepgrad.float32`` is deepgrad's name for ``torch.float32``) and dropping object addresses
(``<AddBackward0 object at 0x7f...>``); the numbers within
``rtol=1e-4`` (float32 sums differ in the last bits between NumPy and torch kernels) plus one
unit in the last printed digit (a rounded value may land on either side of a boundary), or
a program's own ``# client-rtol: X`` line; integers exactly.

Both runs draw random numbers from one NumPy stream (``clients/_shared_random.py``), since the
two frameworks' generators differ by design. ``torchvision`` is not installable beside torch 2.13,
so the torch run uses ``clients/_torchvision_standin.py``, written from torchvision's
documented behaviour on torch and NumPy.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from filelock import FileLock  # a dependency of torch

CLIENTS = Path(__file__).parent / "clients"
PROGRAMS = sorted(p for p in CLIENTS.glob("*.py") if not p.name.startswith("_"))
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")


def _run_both(tmp: Path) -> dict:
    runs = {}
    for framework in ("torch", "deepgrad"):
        out = tmp / f"{framework}.json"
        cmd = [sys.executable, str(CLIENTS / "_runner.py"), framework, str(out)]
        cmd += [str(p) for p in PROGRAMS]
        runs[framework] = (out, subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
    results = {}
    for framework, (out, proc) in runs.items():
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"the {framework} runner failed:\n{stderr[-3000:]}"
        results[framework] = json.loads(out.read_text())
    return results


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict:
    """Both frameworks' outputs, ``{framework: {program: {"stdout", "error"}}}``.

    Under pytest-xdist the first worker to get here runs the programs and the others read its
    results (the session's shared temporary folder, under a file lock), so they run once.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _run_both(tmp_path_factory.mktemp("clients"))
    shared = tmp_path_factory.getbasetemp().parent  # this session's folder, common to workers
    with FileLock(str(shared / "client_programs.lock")):
        cache = shared / "client_programs.json"
        if not cache.exists():
            tmp = shared / "client_programs"
            tmp.mkdir(exist_ok=True)
            cache.write_text(json.dumps(_run_both(tmp)))
        return json.loads(cache.read_text())


def _rtol(program: Path) -> float:
    m = re.search(r"^# client-rtol: (\S+)", program.read_text(), re.M)
    return float(m.group(1)) if m else 1e-4


def _last_digit(token: str) -> float:
    """One unit in the last printed place of ``token`` ("0.125" -> 0.001, "1.5e-03" -> 1e-4)."""
    try:
        return 10.0 ** Decimal(token).as_tuple().exponent
    except (ValueError, ArithmeticError):
        return 0.0


def compare(actual: str, expected: str, rtol: float) -> list[str]:
    """The differences between deepgrad's output ``actual`` and torch's ``expected``."""
    actual = actual.replace("deepgrad.", "torch.")
    # reprs such as <AddBackward0 object at 0x7f...> differ in the address only
    actual, expected = (re.sub(r" at 0x[0-9a-fA-F]+", " at 0x", s) for s in (actual, expected))
    problems = []
    a_lines, e_lines = actual.splitlines(), expected.splitlines()
    if len(a_lines) != len(e_lines):
        problems.append(f"{len(a_lines)} lines printed, torch printed {len(e_lines)}")
    for n, (a, e) in enumerate(zip(a_lines, e_lines), 1):
        a_nums, e_nums = NUMBER.findall(a), NUMBER.findall(e)
        if NUMBER.sub("#", a) != NUMBER.sub("#", e) or len(a_nums) != len(e_nums):
            problems.append(f"line {n}:\n  deepgrad: {a}\n  torch:    {e}")
            continue
        for x, y in zip(a_nums, e_nums):
            fx, fy = float(x), float(y)
            if math.isnan(fx) and math.isnan(fy):
                continue
            x_int, y_int = (re.fullmatch(r"[-+]?\d+", t) is not None for t in (x, y))
            if x_int or y_int:  # an integer against a float is a dtype difference
                ok = x_int and y_int and x.lstrip("+") == y.lstrip("+")
            else:
                tol = rtol * abs(fy) + max(_last_digit(x), _last_digit(y))
                ok = fx == fy or abs(fx - fy) <= tol
            if not ok:
                problems.append(f"line {n}: {x} vs torch {y}\n  deepgrad: {a}\n  torch:    {e}")
                break
    return problems


def test_compare_catches_differences():
    assert compare("loss 0.1235 deepgrad.float32", "loss 0.1234 torch.float32", 1e-4) == []
    assert compare("loss 0.1237", "loss 0.1234", 1e-4)  # 3 units in the last place
    assert compare("acc 57", "acc 58", 1e-4)  # integers exactly
    assert compare("tensor([1., 2.])", "tensor([1, 2])", 1e-4)  # float vs int print
    assert compare("a\nb", "a", 1e-4)
    assert compare("shape (2, 3)", "shape torch.Size([2, 3])", 1e-4)
    assert compare("<AddBackward0 object at 0x7f01>", "<AddBackward0 object at 0x7e99>", 1e-4) == []
    assert compare("<Add object at 0x7f01>", "<AddBackward0 object at 0x7e99>", 1e-4)


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_prints_what_torch_prints(program, outputs):
    torch_run, deepgrad_run = outputs["torch"][program.stem], outputs["deepgrad"][program.stem]
    if (
        torch_run["error"]
        and "FashionMNIST: " in torch_run["error"]
        and "not found" in torch_run["error"]
    ):
        pytest.skip(
            "the Fashion-MNIST files are not here (Debian: apt-get install dataset-fashion-mnist)"
        )
    assert torch_run["error"] is None, f"the program fails under torch:\n{torch_run['error']}"
    assert torch_run["stdout"].strip(), "the program prints nothing to compare"
    assert deepgrad_run["error"] is None, (
        f"fails under deepgrad:\n{deepgrad_run['error']}\nafter printing:\n"
        f"{deepgrad_run['stdout'][-1500:]}"
    )
    problems = compare(deepgrad_run["stdout"], torch_run["stdout"], _rtol(program))
    assert not problems, "\n".join(problems[:8])
