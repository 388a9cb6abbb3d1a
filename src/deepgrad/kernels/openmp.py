"""GCC's OpenMP runtime: the one set of worker threads for the kernels and MKL's products.

Why: the kernels first ran their shares on a Python ``ThreadPoolExecutor``. Handing a share
to its sleeping worker and getting the answer back took 75-90 us on the 2-core AVX-512 host
(a no-op, measured), and the CNN's step launches 12 multi-threaded kernels; PyTorch's
OpenMP workers spin between parallel regions and start at once. So ``run`` hands the shares
to ``GOMP_parallel``: every thread of the team, the calling one included, runs a small
compiled trampoline (``trampoline_ir``) that calls the kernel on each share listed for its
thread number. MKL's GNU threading layer uses the same runtime (``products.py``), so the
kernels and the products share one team instead of two pools fighting for the cores. On
that host a 6.4 MB ReLU went from 436 to 299 us and 60 CNN training batches from 0.99-1.07 s
to 0.89-0.98 s.

``run`` returns False, and ``threads.py`` falls back to its Python pool, when the runtime
(``libgomp.so.1``) or llvmlite cannot be loaded, with ``DEEPGRAD_OPENMP=0``, in a forked
child (GCC's runtime cannot start parallel regions after a fork in which its parent had
started any), and where another library loaded the runtime first with GCC's default spin
while NumPy's OpenBLAS does the products (``_prepare``).

The runtime is loaded once, with a spin chosen for the host (``spin_count``, ``load``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os

import numpy as np

from deepgrad.kernels import compiler
from deepgrad.kernels.pointers import address

#: How long idle OpenMP threads spin before they sleep (``GOMP_SPINCOUNT``; see
#: ``spin_count``): where the large products run on the team too (MKL's, or NumPy's OpenBLAS
#: one sgemm a thread), and where OpenBLAS multiplies on threads of its own.
SPIN_ON_TEAM = 30_000
SPIN_BESIDE_OPENBLAS = 1_000
#: The most pointer arguments a kernel may take (each share is a row of MAX_POINTERS + 4).
MAX_POINTERS = 10
_ROW = MAX_POINTERS + 4

# "gomp" once loaded, "error" when it cannot be; "default_spin" when another library loaded it
# first and nobody chose a spin; "why_pool" when the team is not used; "run" for the trampoline
_state: dict = {}
_kernel_addresses: dict = {}  # id(kernel) -> (kernel, its machine-code address)


def spin_count() -> int:
    """How many turns the team's idle threads spin before they sleep, for this host.

    After each parallel region GCC's runtime spins its idle threads, 300,000 turns by default.
    Where the large products run on this team (MKL's on Intel CPUs, NumPy's OpenBLAS one sgemm
    a thread elsewhere: ``products.py``), the spin bridges the gaps between a step's products
    and kernels, but the default kept a core from the convolution kernels that start right
    after the CNN's last layer (60 training batches: 1.26-1.29 s against 1.00-1.05 s with that
    layer on NumPy); 30,000 turns do both. Where OpenBLAS multiplies on threads of its own (no
    compiled kernels to call it from the team, ``DEEPGRAD_BLAS=numpy``), a spinning team
    thread holds the core its worker needs: on a 2-core AMD EPYC (Zen 5) the first product of
    each MLP step took 1,030 us after the optimiser's kernel instead of 345 us, and W1's epoch
    0.93-1.03 s with 30,000 turns, 0.59-0.64 s with 1,000, 0.60-0.63 with 3,000, 0.66-0.72
    with 10,000 and 0.65-0.80 with none (deepgrad alone, 4 epochs each)."""
    return SPIN_ON_TEAM if _products_on_team() else SPIN_BESIDE_OPENBLAS


@contextlib.contextmanager
def _short_spin():
    """``GOMP_SPINCOUNT`` set to ``spin_count()`` while the runtime loads (it reads it then).

    Only for this load: the variable is removed again, so child processes and other OpenMP
    runtimes keep their defaults; left alone when the user set ``GOMP_SPINCOUNT`` or
    ``OMP_WAIT_POLICY``, or the runtime was loaded already (PyTorch's wheel ships one with the
    same name, which then serves both: ``benchmarks/run.py`` sets the variable itself)."""
    if "GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ or _gomp_loaded():
        yield
        return
    os.environ["GOMP_SPINCOUNT"] = str(spin_count())
    try:
        yield
    finally:
        del os.environ["GOMP_SPINCOUNT"]


def _gomp_loaded() -> bool:
    try:
        with open("/proc/self/maps") as maps:
            return any("/libgomp.so" in line for line in maps)  # not PyTorch's libgomp-<hash>
    except OSError:
        return False


def load():
    """GCC's OpenMP runtime (a ctypes library), loaded once with the short spin; None when it
    cannot be loaded."""
    if "gomp" not in _state and "error" not in _state:
        chosen = "GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ
        _state["default_spin"] = not chosen and _gomp_loaded()  # see _prepare
        try:
            with _short_spin():
                _state["gomp"] = ctypes.CDLL("libgomp.so.1")
            _state["pid"] = os.getpid()
        except OSError as exc:
            _state["error"] = f"libgomp.so.1 could not be loaded: {exc}"
    return _state.get("gomp")


def load_error() -> str:
    """Why ``load`` returned None (or would)."""
    return _state.get("error", "libgomp.so.1 could not be loaded")


def active() -> bool:
    """True when ``run`` can hand shares to the OpenMP team in this process."""
    if "run" not in _state:
        _state["run"] = _prepare()
    return bool(_state["run"]) and _state.get("pid") == os.getpid()


def _prepare():
    if os.environ.get("DEEPGRAD_OPENMP") == "0" or not compiler.available():
        return None
    gomp = load()
    if gomp is None:
        return None
    if _state.get("default_spin") and not _products_on_team():
        # Another library (PyTorch, at import) loaded the runtime first, with GCC's default
        # spin of 300,000 turns, and NumPy's OpenBLAS has threads of its own: the team's idle
        # threads would hold the cores OpenBLAS's worker needs (the course MLP's epoch on a
        # 2-core AMD EPYC, PyTorch imported first: 1.43-1.67 s on that team, 0.61-0.66 on the
        # Python pool, 0.59-0.61 on the team given deepgrad's spin before PyTorch loaded it).
        # So the kernels take the Python pool.
        _state["why_pool"] = (
            "GCC's OpenMP runtime was loaded before deepgrad (by PyTorch?) with its default "
            f"spin; set GOMP_SPINCOUNT={SPIN_BESIDE_OPENBLAS} before importing it to use it"
        )
        return None
    try:
        import llvmlite.binding as binding

        thread_num = ctypes.cast(gomp.omp_get_thread_num, ctypes.c_void_p).value
        binding.add_symbol("omp_get_thread_num", thread_num)
        team_size = ctypes.cast(gomp.omp_get_num_threads, ctypes.c_void_p).value
        binding.add_symbol("omp_get_num_threads", team_size)
        parallel = gomp.GOMP_parallel
    except (ImportError, AttributeError):
        return None
    parallel.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    parallel.restype = None
    trampoline = compiler.kernel("omp_trampoline", (MAX_POINTERS,), trampoline_ir, 1)
    _state["trampoline"] = trampoline  # keeps its code alive
    return parallel, ctypes.cast(trampoline, ctypes.c_void_p).value


def _products_on_team() -> bool:
    """True when the large products will run on this team (``products.on_team_wanted``)."""
    from deepgrad.kernels import products  # here: products imports this module

    return products.on_team_wanted()


def describe() -> str:
    """Which threads run the kernels' shares in this process, for reports."""
    if active():
        return "GCC's OpenMP team (libgomp)"
    if os.environ.get("DEEPGRAD_OPENMP") == "0":
        return "a Python thread pool (DEEPGRAD_OPENMP=0)"
    reason = _state.get("why_pool") or (
        load_error() if "error" in _state else "no OpenMP team in this process"
    )
    return f"a Python thread pool ({reason})"


def _address(kernel) -> int:
    hit = _kernel_addresses.get(id(kernel))
    if hit is None:  # kernels are compiled once and kept, so the entry stays valid
        hit = _kernel_addresses[id(kernel)] = (kernel, ctypes.cast(kernel, ctypes.c_void_p).value)
    return hit[1]


def run(shares) -> bool:
    """Run ``shares`` (one list per thread of ``(kernel, pointers, start, end)``, each call
    ``kernel(*pointers, start, end)``) on the OpenMP team, one list per thread, and return
    True; False (nothing run) when the team is not available here."""
    if not active():
        return False
    parallel, trampoline = _state["run"]
    # The job, one int64 array: the number of threads T, T + 1 offsets into the rows, then a
    # row per call: kernel address, pointer count, MAX_POINTERS pointers, start, end.
    head, rows = [len(shares)], []
    for work in shares:
        head.append(len(rows) // _ROW)
        for kernel, pointers, start, end in work:
            if len(pointers) > MAX_POINTERS:
                return False
            rows += (_address(kernel), len(pointers), *pointers)
            rows += (0,) * (MAX_POINTERS - len(pointers)) + (start, end)
    head.append(len(rows) // _ROW)
    job = np.array(head + rows, np.int64)
    parallel(trampoline, address(job), len(shares), 0)
    return True


def trampoline_ir(width, max_pointers):
    """``omp_trampoline(job, _, _)``: the calls listed for this OpenMP thread (see ``run``),
    each through a pointer cast to the kernel's type, ``void(float* x n, i64, i64)``. Thread
    t of a team of nt runs the lists t, t + nt, ...: should the runtime grant fewer threads
    than asked (``OMP_THREAD_LIMIT``, ``OMP_DYNAMIC``), every list still runs. Written as LLVM
    assembly text, which the compiler parses like the generated kernels' modules (the two
    unused arguments give it the kernels' signature)."""
    row = max_pointers + 4
    out = [
        "declare i32 @omp_get_thread_num()",
        "declare i32 @omp_get_num_threads()",
        "define void @omp_trampoline(float* noalias %jobf, i64 %u0, i64 %u1) {",
        "entry:",
        "  %job = bitcast float* %jobf to i64*",
        "  %tid32 = call i32 @omp_get_thread_num()",
        "  %tid = sext i32 %tid32 to i64",
        "  %nt32 = call i32 @omp_get_num_threads()",
        "  %nt = sext i32 %nt32 to i64",
        "  %lists = load i64, i64* %job",
        "  %base = add i64 %lists, 2",
        "  %nolist = icmp sge i64 %tid, %lists",
        "  br i1 %nolist, label %done, label %list",
        "list:",
        "  %s = phi i64 [%tid, %entry], [%s.next, %listnext]",
        "  %lo.i = add i64 %s, 1",
        "  %hi.i = add i64 %s, 2",
        "  %lo.p = getelementptr i64, i64* %job, i64 %lo.i",
        "  %hi.p = getelementptr i64, i64* %job, i64 %hi.i",
        "  %lo = load i64, i64* %lo.p",
        "  %hi = load i64, i64* %hi.p",
        "  %none = icmp sge i64 %lo, %hi",
        "  br i1 %none, label %listnext, label %loop",
        "loop:",
        "  %r = phi i64 [%lo, %list], [%r.next, %next]",
        f"  %at0 = mul i64 %r, {row}",
        "  %at = add i64 %at0, %base",
        "  %row = getelementptr i64, i64* %job, i64 %at",
    ]

    def field(name, k):
        out.append(f"  %{name}.p = getelementptr i64, i64* %row, i64 {k}")
        out.append(f"  %{name} = load i64, i64* %{name}.p")

    field("fn", 0)
    field("n", 1)
    for i in range(max_pointers):
        field(f"q{i}", 2 + i)
        out.append(f"  %p{i} = inttoptr i64 %q{i} to float*")
    field("start", 2 + max_pointers)
    field("end", 3 + max_pointers)
    cases = " ".join(f"i64 {k}, label %call{k}" for k in range(1, max_pointers + 1))
    out.append(f"  switch i64 %n, label %next [ {cases} ]")
    for k in range(1, max_pointers + 1):
        fn_type = "void (" + ", ".join(["float*"] * k + ["i64", "i64"]) + ")"
        args = ", ".join([f"float* %p{i}" for i in range(k)] + ["i64 %start", "i64 %end"])
        out += [
            f"call{k}:",
            f"  %f{k} = inttoptr i64 %fn to {fn_type}*",
            f"  call {fn_type} %f{k}({args})",
            "  br label %next",
        ]
    out += [
        "next:",
        "  %r.next = add i64 %r, 1",
        "  %more = icmp slt i64 %r.next, %hi",
        "  br i1 %more, label %loop, label %listnext",
        "listnext:",
        "  %s.next = add i64 %s, %nt",
        "  %morelists = icmp slt i64 %s.next, %lists",
        "  br i1 %morelists, label %list, label %done",
        "done:",
        "  ret void",
        "}",
    ]
    return _Assembly("\n".join(out) + "\n")


class _Assembly:
    """LLVM assembly text with the ``triple`` attribute the compiler sets on a module."""

    def __init__(self, text: str):
        self.text, self.triple = text, ""

    def __str__(self) -> str:
        return f'target triple = "{self.triple}"\n{self.text}'
