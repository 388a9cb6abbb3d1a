"""The vector width the kernels are generated for, and the kernels of each width.

The kernels of this host's width run in the other test files. A width the CPU lacks cannot
run here, so for both widths every kernel's IR is checked (vector type, masked tails) and
compiled to machine code for a CPU that has it (skylake-avx512, haswell), without running;
the assembly must then use that width's registers. On an AVX-512 host the AVX2 kernels also
run, forced with DEEPGRAD_VECTOR_WIDTH=8 (``test_forced_avx2_kernels_run``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from deepgrad.kernels import compiler, gather, optim_steps, pool, products, relu
from deepgrad.kernels import conv as conv_kernels

llvmlite = pytest.importorskip("llvmlite")

WIDTHS = [compiler.AVX512, compiler.AVX2]


def _cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@pytest.mark.parametrize(
    "features,forced,expected",
    [
        ({"avx512f": True, "avx2": True, "fma": True}, "", "avx512"),
        ({"avx512f": True, "avx2": True, "fma": True}, "8", "avx2"),
        ({"avx512f": True, "avx2": True, "fma": True}, "16", "avx512"),
        ({"avx512f": False, "avx2": True, "fma": True}, "", "avx2"),
        ({"avx2": True, "fma": False}, "", None),  # AVX2 without FMA: NumPy
        ({"sse4.2": True}, "", None),
    ],
)
def test_width_is_the_widest_the_cpu_has(features, forced, expected):
    width = compiler.choose_width(features, forced)
    assert (width.isa if width else None) == expected


def test_host_width_follows_cpuinfo():
    """The width chosen here agrees with what the kernel (Linux) reports about this CPU."""
    flags = _cpu_flags()
    if not flags or not compiler.available():
        pytest.skip("no /proc/cpuinfo or no kernels here")
    forced = os.environ.get("DEEPGRAD_VECTOR_WIDTH", "")
    expected = "avx512" if "avx512f" in flags and forced != "8" else "avx2"
    assert compiler.host_width().isa == expected
    assert compiler.describe()["isa"] == expected


class _Geo:  # the attributes of ops/pool.py's PoolGeometry the kernels read
    h = w = 6
    kh = kw = sh = sw = 2
    dh = dw = 1
    oh = ow = 3


def _modules(width):
    """(name, module, has a masked tail) for every kernel, at ``width``."""
    n8 = 2 * width.vec
    xshape = (3, 10, 10, n8 + 16)
    g = _Geo
    pool_shape = (2, g.h, g.w, 13, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.oh, g.ow)
    yield "relu", relu.forward_ir(width), True
    yield "relu_grad", relu.backward_ir(width), True
    yield "relu_inplace", relu.inplace_ir(width), True
    yield "bias_rows (21 wide)", products.bias_rows_ir(width, 21), True
    yield "gather_rows (21 wide)", gather.gather_rows_ir(width, 21), True
    yield "linear_relu (21 wide)", products.linear_relu_ir(width, 21, 7, True), True
    fwd = conv_kernels.forward_ir(width, xshape, (5, 3, 3, 3), (8, 8), n8, (1, 1), (1, 1))
    yield "conv forward", fwd, False
    wg = conv_kernels.weight_grad_ir(width, xshape, (4, 3, 3, 3), (8, 8), n8, (1, 1), (1, 1), 2)
    yield "conv weight_grad", wg, False
    yield "max_pool (13 images)", pool.forward_ir(width, *pool_shape), True
    yield "max_pool_grad (13 images)", pool.backward_ir(width, *pool_shape), True
    variants = {
        "sgd": (True, True, True, True, False, 4),
        "adam": (True, True, False, False, True, 6),
        "rmsprop": (True, False, True, True, True, 6),
        "adagrad": (True, True, 4),
    }
    for name, shape in variants.items():
        yield name, optim_steps.BUILDERS[name](width, *shape), True


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: w.isa)
def test_every_kernel_is_generated_and_compiled_for_each_width(width):
    other = 8 if width.vec == 16 else 16
    for name, module, masked in _modules(width):
        ir = str(module)
        assert f"<{width.vec} x float>" in ir, name
        assert f"<{other} x float>" not in ir, name
        assert ("llvm.masked.load" in ir and "llvm.masked.store" in ir) == masked, name
        assert len(compiler.object_code(module, width)) > 0, name
        asm = compiler.object_code(module, width, assembly=True)
        if width.vec == 16:  # 512-bit registers; masked tails as AVX-512 mask registers
            assert "%zmm" in asm, name
            if masked:
                assert re.search(r"\{%k[1-7]\}", asm), name
        else:
            assert "%ymm" in asm and "%zmm" not in asm, name
            if masked:
                assert "vmaskmovps" in asm or "vpmaskmov" in asm or "vpextr" in asm, name


def test_forward_tiles_are_sized_per_width():
    """AVX-512's 32 registers: 4 x 4 accumulators per forward tile; AVX2's 16: 4 x 2."""
    counts = {}
    for width in WIDTHS:
        xshape = (4, 10, 10, 4 * width.vec + 16)
        module = conv_kernels.forward_ir(width, xshape, (4, 4, 3, 3), (8, 8), 4 * width.vec,
                                         (1, 1), (1, 1))  # fmt: skip
        counts[width.isa] = str(module).count("llvm.fma")
    assert conv_kernels._image_vectors(compiler.AVX512) == 4
    assert conv_kernels._image_vectors(compiler.AVX2) == 2
    assert conv_kernels._accumulators(compiler.AVX512) == 24
    assert conv_kernels._accumulators(compiler.AVX2) == 12
    assert counts["avx512"] == 2 * counts["avx2"] - 1  # (one declaration each)


def test_forced_avx2_kernels_run():
    """DEEPGRAD_VECTOR_WIDTH=8 gives the AVX2 kernels, whatever the host has, and they agree
    with the NumPy references (on an AVX2 host this is the host's width anyway)."""
    if not compiler.available():
        pytest.skip("no kernels here")
    script = (
        "import numpy as np, deepgrad, deepgrad.nn.functional as F\n"
        "from deepgrad import kernels\n"
        "from deepgrad.kernels import compiler\n"
        "rng = np.random.default_rng(0)\n"
        "x = rng.standard_normal((13, 3, 8, 8)).astype(np.float32)\n"
        "w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)\n"
        "y = F.conv2d(deepgrad.tensor(x), deepgrad.tensor(w), padding=1).numpy()\n"
        "isa = kernels.describe()['isa']\n"
        "compiler._llvm = False\n"  # from here on the NumPy reference, in the same process
        "ref = F.conv2d(deepgrad.tensor(x), deepgrad.tensor(w), padding=1).numpy()\n"
        "print(isa, float(abs(y - ref).max()))\n"
    )
    env = {**os.environ, "DEEPGRAD_VECTOR_WIDTH": "8"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    isa, err = out.stdout.split()
    assert isa == "avx2" and float(err) < 1e-4
