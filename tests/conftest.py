"""Shared test helpers: PyTorch is the oracle."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys

import numpy as np
import pytest

import deepgrad
from deepgrad.kernels import openmp

# PyTorch loads GCC's OpenMP runtime at import, and deepgrad's kernels share it; give it
# deepgrad's spin first (as benchmarks/run.py does), or on hosts where NumPy's OpenBLAS does
# the products the kernels would take their Python pool and the team's tests would skip.
if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = str(openmp.spin_count())

import torch  # noqa: E402

torch.set_num_threads(1)  # the suite runs under xdist on 2 cores; keep each worker to one
os.environ.setdefault("DEEPGRAD_SMOKE", "1")


def _fix_hypothesis_constants() -> None:
    """Make derandomized Hypothesis draws independent of the order the tests run in.

    Now and then Hypothesis draws a constant it found in the source of the "local" modules
    loaded so far (not tests, not site-packages): deepgrad's. So a derandomized test drew other
    values depending on which deepgrad modules earlier tests had imported, and a strict xfail
    (``test_special_values_match_torch[kl_div]``) passed whenever ``tests/onnx/test_onnx_cli.py``
    had run first. Import every deepgrad module now, let Hypothesis read them once, and keep
    that set: every worker and every order then draws the same values."""
    for module in pkgutil.walk_packages(deepgrad.__path__, "deepgrad."):
        if module.name.endswith("__main__"):  # running it starts an app
            continue
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as err:
            if err.name != "cupy":
                raise
    try:  # an internal hook of Hypothesis 6.1xx; without it, draws stay as Hypothesis makes them
        from hypothesis.internal.conjecture import providers
    except ImportError:
        return
    if hasattr(providers, "_get_local_constants") and hasattr(providers, "_local_constants"):
        providers._get_local_constants()
        providers._get_local_constants = lambda: providers._local_constants


_fix_hypothesis_constants()


def to_torch(x, requires_grad=None) -> torch.Tensor:
    """A torch tensor with the same values and dtype as a deepgrad tensor or array."""
    arr = np.array(x._data if isinstance(x, deepgrad.Tensor) else x)
    t = torch.from_numpy(arr)
    if requires_grad if requires_grad is not None else getattr(x, "requires_grad", False):
        t.requires_grad_(True)
    return t


def to_np(x) -> np.ndarray:
    if isinstance(x, deepgrad.Tensor):
        return x._data
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(actual, expected, rtol=None, atol=None, check_dtype=True) -> None:
    """Compare values (and dtypes) of deepgrad/torch/NumPy tensors; float32 gets looser limits."""
    a, e = to_np(actual), to_np(expected)
    if check_dtype:
        assert a.dtype == e.dtype, f"dtype {a.dtype} != expected {e.dtype}"
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    if rtol is None:
        rtol = 1e-6 if a.dtype == np.float64 else 1e-5
    if atol is None:
        atol = 1e-8 if a.dtype == np.float64 else 1e-6
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


@pytest.fixture(autouse=True)
def _seed():
    deepgrad.manual_seed(0)
    torch.manual_seed(0)
    yield


# tests/torch_parity/clients/ holds PyTorch-style programs run by test_client_programs.py,
# not test modules
# (a name such as quickstart_train_test.py would otherwise be collected).
collect_ignore_glob = ["torch_parity/clients/*"]


def _run_python(code: str, base_env=None, **env) -> str:
    """stdout of ``python -c code`` (stripped) in ``base_env`` (default: this process's
    environment) with ``env`` added; fails the test on a non-zero exit, showing stderr. For
    settings that only take effect when a library loads (threads, BLAS, OpenMP)."""
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**(os.environ if base_env is None else base_env), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


@pytest.fixture
def run_python():
    """``run_python(code, base_env=None, **env)``: see ``_run_python``."""
    return _run_python


def matrix_operands(m: int, k: int, n: int, layout: str, seed: int = 0):
    """Random float32 a (m, k) and b (k, n); ``layout`` "CF" etc. gives each operand's order,
    b's "F" being the transposed view Linear passes (``weight.T``)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    if layout[0] == "F":
        a = np.asfortranarray(a)
    if layout[1] == "F":
        b = np.ascontiguousarray(b.T).T
    return a, b


@pytest.fixture
def mkl_products(monkeypatch):
    """deepgrad.kernels.products on MKL for one test, on any x86 CPU where the mkl wheel loads.

    Intel hosts use MKL's products by default; other hosts only with ``DEEPGRAD_BLAS=mkl``, so
    without this their MKL tests would skip. The module's state is swapped for a fresh one and
    restored afterwards (the library stays loaded, unused)."""
    from deepgrad.kernels import products

    if products.backend() != "mkl":
        monkeypatch.setenv("DEEPGRAD_BLAS", "mkl")
        monkeypatch.setattr(products, "_state", {})
        if products.backend() != "mkl":
            pytest.skip(products.describe())
    return products


@pytest.fixture
def openblas_team_products(monkeypatch):
    """deepgrad.kernels.products as NumPy's OpenBLAS on the OpenMP team (kernels/
    openblas_team.py) for one test, on 2 threads, on any host where it can run (Intel hosts
    take MKL by default; ``DEEPGRAD_BLAS=openblas`` chooses this)."""
    from deepgrad.kernels import products

    monkeypatch.setenv("DEEPGRAD_BLAS", "openblas")
    monkeypatch.setattr(products, "_state", {})
    monkeypatch.setattr(products.threads, "num_threads", lambda: 2)
    if products.backend() != "openblas":
        pytest.skip(products.describe())
    return products
