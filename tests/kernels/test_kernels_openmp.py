"""The kernels' shares on GCC's OpenMP team (deepgrad/kernels/openmp.py) against the Python
thread pool it replaces and against NumPy: the same bits either way, every share run however
the work is cut and however many threads the runtime grants, and the fallbacks (a forked
child, DEEPGRAD_OPENMP=0) taken."""

from __future__ import annotations

import os

import numpy as np
import pytest

from deepgrad.kernels import compiler, openmp, relu, threads

pytestmark = pytest.mark.skipif(not compiler.available(), reason="needs llvmlite and AVX2/FMA")
needs_team = pytest.mark.skipif(
    not openmp.active(), reason="GCC's OpenMP runtime (libgomp.so.1) is not available here"
)


def _relu_kernel():
    return compiler.kernel("relu", (), relu.forward_ir, 2)


@needs_team
@pytest.mark.parametrize("workers", [2, 3, 5])
def test_uneven_pieces_land_where_numpy_puts_them(workers, monkeypatch):
    """Pieces of odd sizes (an optimiser group's tensors) cut into shares that start and end
    inside pieces: every element is written once, with NumPy's value."""
    calls = []
    real_run = openmp.run
    monkeypatch.setattr(openmp, "run", lambda shares: calls.append(len(shares)) or real_run(shares))
    rng = np.random.default_rng(workers)
    sizes = [5, 1000, 37, 20_000, 1, 4096 * 3 + 7]
    xs = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    ys = [np.full(n, np.nan, np.float32) for n in sizes]
    pieces = [((x.ctypes.data, y.ctypes.data), x.size) for x, y in zip(xs, ys)]
    threads.run_segments(_relu_kernel(), pieces, 64, workers)
    assert calls == [workers]
    for x, y in zip(xs, ys):
        np.testing.assert_array_equal(y, np.maximum(x, 0))


@needs_team
def test_more_pointers_than_the_trampoline_takes_go_to_the_pool():
    shares = [[(_relu_kernel(), (0,) * (openmp.MAX_POINTERS + 1), 0, 0)]] * 2
    assert openmp.run(shares) is False


# One CNN training step on 2 threads: conv, pool and ReLU kernels forward and backward, the
# Linear products and a fused SGD step; prints whether the team ran them and a digest of
# every parameter afterwards.
_CNN_STEP = """
import hashlib, numpy as np
import deepgrad as torch
from deepgrad.kernels import openmp
torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, fused=True)
x = torch.randn(64, 1, 28, 28)
y = torch.randint(0, 10, (64,))
for _ in range(2):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in net.parameters()))
print(openmp.active(), digest.hexdigest())
"""


@needs_team
def test_a_cnn_step_on_the_team_equals_the_python_pool_bit_for_bit(run_python):
    # the products on NumPy in both runs: on the team they may split differently (see
    # kernels/openblas_team.py); this compares the kernels' shares
    env = {"DEEPGRAD_NUM_THREADS": "2", "DEEPGRAD_BLAS": "numpy"}
    team = run_python(_CNN_STEP, **env).split()
    pool = run_python(_CNN_STEP, **env, DEEPGRAD_OPENMP="0").split()
    assert team[0] == "True" and pool[0] == "False"
    assert team[1] == pool[1]


_RELU = """
import numpy as np
from deepgrad.kernels import relu
x = np.random.default_rng(0).standard_normal(3_000_001).astype(np.float32)
print(np.array_equal(relu.forward(x), np.maximum(x, 0)))
"""


@needs_team
def test_every_share_runs_when_the_runtime_grants_fewer_threads(run_python):
    """OMP_THREAD_LIMIT=1 gives a team of one: that thread runs all three lists."""
    assert run_python(_RELU, DEEPGRAD_NUM_THREADS="3", OMP_THREAD_LIMIT="1") == "True"


@needs_team
def test_a_forked_child_uses_the_python_pool(monkeypatch):
    """GCC's runtime cannot start a parallel region in a forked child whose parent had
    started one: a process other than the one that loaded it takes the pool."""
    monkeypatch.setitem(openmp._state, "pid", os.getpid() + 1)
    assert not openmp.active()
    x = np.random.default_rng(1).standard_normal(2_000_000).astype(np.float32)
    y = np.empty_like(x)
    threads.run_split(_relu_kernel(), (x.ctypes.data, y.ctypes.data), x.size, 2)
    np.testing.assert_array_equal(y, np.maximum(x, 0))


def test_deepgrad_openmp_0_turns_the_team_off(run_python):
    code = "from deepgrad.kernels import openmp; print(openmp.active(), openmp.describe())"
    assert run_python(code, DEEPGRAD_OPENMP="0") == "False a Python thread pool (DEEPGRAD_OPENMP=0)"


@pytest.mark.skipif(openmp.load() is None, reason="libgomp.so.1 is not available here")
def test_the_short_spin_is_set_for_the_runtime_only(run_python):
    """GOMP_SPINCOUNT is in the environment while GCC's OpenMP runtime loads (it reads it
    then) and gone afterwards, so child processes keep their defaults; a user's value stays."""
    code = (
        "import ctypes, os\n"
        "seen = []\n"
        "real = ctypes.CDLL\n"
        "def spy(name, *a, **k):\n"
        "    seen.append((str(name), os.environ.get('GOMP_SPINCOUNT')))\n"
        "    return real(name, *a, **k)\n"
        "ctypes.CDLL = spy\n"
        "from deepgrad.kernels import openmp\n"
        "assert openmp.load() is not None\n"
        "gomp = [s for s in seen if s[0] == 'libgomp.so.1']\n"
        "print(gomp[0][0], gomp[0][1], os.environ.get('GOMP_SPINCOUNT'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    seen = run_python(code, env).split()
    assert seen == ["libgomp.so.1", str(openmp.spin_count()), "None"]
    assert run_python(code, GOMP_SPINCOUNT="7").split() == ["libgomp.so.1", "7", "7"]


ON_TEAM, BESIDE = openmp.SPIN_ON_TEAM, openmp.SPIN_BESIDE_OPENBLAS


@pytest.mark.parametrize(
    "blas, intel, mkl_wheel, openblas, expected",
    [
        ("", True, True, True, ON_TEAM),  # MKL on the team
        ("mkl", False, True, True, ON_TEAM),
        ("", False, True, True, ON_TEAM),  # NumPy's OpenBLAS on the team
        ("", True, False, True, ON_TEAM),
        ("openblas", True, True, True, ON_TEAM),
        ("", False, True, False, BESIDE),  # another BLAS: OpenBLAS's own threads
        ("numpy", True, True, True, BESIDE),  # NumPy's own call
    ],
)
def test_the_spin_follows_who_does_the_products(
    monkeypatch, blas, intel, mkl_wheel, openblas, expected
):
    """The longer spin where the products run on the team (MKL's, or NumPy's OpenBLAS one
    sgemm a thread); a short one where OpenBLAS multiplies on threads of its own (W1 on an AMD
    EPYC: 0.59-0.64 s against 0.93-1.03 with the longer spin)."""
    from deepgrad.kernels import openblas_team, products

    monkeypatch.setenv("DEEPGRAD_BLAS", blas)
    for var in ("DEEPGRAD_JIT", "DEEPGRAD_OPENMP"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(products, "_intel_cpu", lambda: intel)
    monkeypatch.setattr(products, "_find_mkl_rt", lambda: "libmkl_rt.so.2" if mkl_wheel else None)
    monkeypatch.setattr(products.compiler, "available", lambda: True)
    monkeypatch.setattr(openblas_team, "find", lambda: (1, None, None, 64) if openblas else None)
    assert products.on_team_wanted() == (expected == ON_TEAM)
    assert openmp.spin_count() == expected


def _loaded_first(run_python, printed: str, **env) -> str:
    """``print(printed)`` in a fresh process that loaded libgomp.so.1 before deepgrad, as
    importing PyTorch does, with no spin chosen by anyone."""
    code = (
        "import ctypes\n"
        "ctypes.CDLL('libgomp.so.1')\n"
        "from deepgrad.kernels import openmp, products\n"
        f"print({printed})\n"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    return run_python(code, base, **env)


@pytest.mark.skipif(openmp.load() is None, reason="libgomp.so.1 is not available here")
@pytest.mark.parametrize(
    "env, team",
    [
        ({"DEEPGRAD_BLAS": "numpy"}, False),  # OpenBLAS + the default spin: the Python pool
        ({"DEEPGRAD_BLAS": "numpy", "GOMP_SPINCOUNT": "1000"}, True),  # a spin was chosen
        ({"DEEPGRAD_BLAS": "numpy", "OMP_WAIT_POLICY": "passive"}, True),
    ],
)
def test_a_runtime_loaded_before_deepgrad_with_the_default_spin(run_python, env, team):
    """PyTorch loads libgomp.so.1 at import with GCC's default spin (300,000 turns); beside
    OpenBLAS's threads the course MLP's epoch took 1.43-1.67 s on that team against 0.61-0.66
    on the Python pool (AMD EPYC). The kernels then take the pool, and say why."""
    printed = _loaded_first(run_python, "openmp.active(), '|', openmp.describe()", **env)
    active, described = printed.split(" | ")
    if not team:
        assert active == "False" and "loaded before deepgrad" in described
        assert "GOMP_SPINCOUNT=1000" in described
    elif compiler.available():
        assert active == "True" and described == "GCC's OpenMP team (libgomp)"


@pytest.mark.skipif(openmp.load() is None, reason="libgomp.so.1 is not available here")
def test_a_runtime_loaded_before_deepgrad_still_serves_mkl(run_python):
    """Where MKL's products share the team, the team stays (MKL needs that runtime)."""
    from deepgrad.kernels import products

    if products._find_mkl_rt() is None or not compiler.available():
        pytest.skip("needs the mkl wheel and compiled kernels")
    assert _loaded_first(run_python, "openmp.active()", DEEPGRAD_BLAS="mkl") == "True"


@pytest.mark.skipif(openmp.load() is None, reason="libgomp.so.1 is not available here")
def test_a_runtime_loaded_before_deepgrad_still_serves_openblas_on_the_team(run_python):
    """With the products on the team too (NumPy's OpenBLAS one sgemm a thread), nothing else
    needs the cores, and the team stays under the default spin (the course MLP's epoch,
    PyTorch imported first: 0.53-0.66 s on an AMD EPYC)."""
    from deepgrad.kernels import openblas_team

    if openblas_team.find() is None or not compiler.available():
        pytest.skip("needs NumPy on such an OpenBLAS and compiled kernels")
    printed = "openmp.active(), products.backend()"
    env = {"DEEPGRAD_BLAS": "openblas", "DEEPGRAD_NUM_THREADS": "2"}
    assert _loaded_first(run_python, printed, **env) == "True openblas"
