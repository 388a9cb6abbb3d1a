"""Kernels written in LLVM's intermediate language and compiled for this CPU, with llvmlite.

NumPy runs one elementwise pass at a time on one core; some ops (convolution, pooling) need
loops it cannot express without copies. ``conv_jit``, ``pool_jit`` and ``relu_jit`` write
those loops as LLVM IR with the small ``Emitter`` below, specialised to each shape (every
size a constant), and ``kernel`` compiles each one once per process, with the object code
cached on disk (``~/.cache/deepgrad/jit``, or under ``XDG_CACHE_HOME``) so later processes
skip compiling.

Kernels need llvmlite (a wheel from PyPI), an x86-64 CPU with AVX2 and FMA, and
``DEEPGRAD_JIT`` unset or not ``0``; ``available()`` says whether all hold, and the ops fall
back to NumPy when not. Each kernel is a C function ``kernel(pointers..., start, end)`` that
does the part [start, end) of its work; ``run_split`` cuts the work among the threads
(ctypes releases the GIL while a kernel runs).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deepgrad.ops import blas_threads

VEC = 8  # floats per AVX2 vector

_lock = threading.Lock()
_kernels: dict = {}
_engines: list = []  # compiled code lives as long as its engine
_llvm = None  # the llvmlite modules once loaded; False when unavailable
_pool: ThreadPoolExecutor | None = None
_pool_key = (0, 0)  # (process id, workers) of _pool: a forked child must make its own
_digest: str | None = None


# ------------------------------------------------------------------------------- availability
def _load_llvm():
    """llvmlite's (binding, ir) modules, initialised; None where it cannot serve this CPU."""
    global _llvm
    if _llvm is None:
        _llvm = False
        if os.environ.get("DEEPGRAD_JIT", "1") != "0" and platform.machine() in ("x86_64", "AMD64"):
            try:
                import llvmlite.binding as binding
                from llvmlite import ir
            except ImportError:
                return None
            binding.initialize_native_target()
            binding.initialize_native_asmprinter()
            features = binding.get_host_cpu_features()
            if features.get("avx2") and features.get("fma"):
                _llvm = (binding, ir)
    return _llvm or None


def available() -> bool:
    """True when kernels can be compiled and run here (see the module docstring)."""
    return _load_llvm() is not None


def num_threads() -> int:
    """Threads the kernels use: ``DEEPGRAD_NUM_THREADS``, ``OMP_NUM_THREADS`` or
    ``OPENBLAS_NUM_THREADS`` when set (the test suite sets one thread per worker), else the
    CPUs this process may use."""
    for var in ("DEEPGRAD_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def run_split(fn, args, total: int):
    """Run ``fn(*args, start, end)`` over [0, total) split evenly among the threads."""
    global _pool, _pool_key
    threads = min(num_threads(), total)
    if threads <= 1:
        fn(*args, 0, total)
        return
    blas_threads.quiet_workers()  # once: spinning OpenBLAS threads would take our cores
    pid = os.getpid()
    if _pool_key[0] != pid or _pool_key[1] < threads - 1:  # (a fork leaves the threads behind)
        _pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="deepgrad-jit")
        _pool_key = (pid, threads - 1)
    bounds = [total * t // threads for t in range(threads + 1)]
    futures = [_pool.submit(fn, *args, bounds[t], bounds[t + 1]) for t in range(threads - 1)]
    fn(*args, bounds[-2], bounds[-1])
    for f in futures:
        f.result()


def kernel(kind: str, shape: tuple, build, n_pointers: int):
    """The kernel ``build(*shape)`` builds (a module defining the function ``kind`` with
    ``n_pointers`` pointer arguments), compiled on first use in this process or loaded from
    the disk cache. The cache key covers the generator's source, so editing it recompiles."""
    key = (kind, shape)
    fn = _kernels.get(key)
    if fn is None:
        with _lock:
            fn = _kernels.get(key)
            if fn is None:
                fn = _kernels[key] = _compile(kind, shape, build, n_pointers)
    return fn


# ------------------------------------------------------------------------- code generation
class Emitter:
    """An IRBuilder with the few constructs the kernels need: counted loops, vector loads and
    stores at float offsets, broadcasts and fused multiply-adds."""

    def __init__(self, fn, ir):
        self.ir = ir
        self.i64 = ir.IntType(64)
        self.f32 = ir.FloatType()
        self.vec = ir.VectorType(self.f32, VEC)
        self.b = ir.IRBuilder(fn.append_basic_block("entry"))
        mod = fn.module
        self.fma_fn = ir.Function(mod, ir.FunctionType(self.vec, [self.vec] * 3), "llvm.fma.v8f32")
        self.zero = ir.Constant(self.vec, [0.0] * VEC)
        self.splat_mask = ir.Constant(ir.VectorType(ir.IntType(32), VEC), [0] * VEC)

    def const(self, v: int):
        return self.ir.Constant(self.i64, v)

    def add(self, *terms):
        """Sum of i64 values and Python ints (ints folded together)."""
        total, fixed = None, 0
        for t in terms:
            if isinstance(t, int):
                fixed += t
            else:
                total = t if total is None else self.b.add(total, t)
        if total is None:
            return self.const(fixed)
        return self.b.add(total, self.const(fixed)) if fixed else total

    def mul(self, a, k: int):
        return self.b.mul(a, self.const(k))

    def loop(self, start, end, body, carried=(), step: int = 1):
        """``for v in range(start, end, step): carried = body(v, carried)``; returns the
        carried values after the loop (vectors kept in registers across iterations)."""
        b = self.b
        pre = b.block
        head = b.append_basic_block("head")
        inner = b.append_basic_block("body")
        after = b.append_basic_block("after")
        b.branch(head)
        b.position_at_end(head)
        v = b.phi(self.i64)
        v.add_incoming(start if not isinstance(start, int) else self.const(start), pre)
        phis = []
        for value in carried:
            phi = b.phi(value.type)
            phi.add_incoming(value, pre)
            phis.append(phi)
        end = end if not isinstance(end, int) else self.const(end)
        b.cbranch(b.icmp_signed("<", v, end), inner, after)
        b.position_at_end(inner)
        new = body(v, phis) if carried else body(v, ())
        v.add_incoming(b.add(v, self.const(step)), b.block)
        for phi, value in zip(phis, new or ()):
            phi.add_incoming(value, b.block)
        b.branch(head)
        b.position_at_end(after)
        return phis

    def vptr(self, base, offset):
        return self.b.bitcast(self.b.gep(base, [offset]), self.vec.as_pointer())

    def load(self, base, offset):
        return self.b.load(self.vptr(base, offset), align=4)

    def store(self, value, base, offset):
        self.b.store(value, self.vptr(base, offset), align=4)

    def _bytes_ptr(self, base, offset):
        i8 = self.ir.IntType(8)
        p = self.b.gep(self.b.bitcast(base, i8.as_pointer()), [offset])
        return self.b.bitcast(p, self.ir.VectorType(i8, VEC).as_pointer())

    def load_bytes(self, base, offset):
        """VEC bytes from a float pointer that really points to uint8, at a byte offset."""
        return self.b.load(self._bytes_ptr(base, offset), align=1)

    def store_bytes(self, value, base, offset):
        self.b.store(value, self._bytes_ptr(base, offset), align=1)

    def broadcast(self, base, offset):
        scalar = self.b.load(self.b.gep(base, [offset]))
        undef = self.ir.Constant(self.vec, self.ir.Undefined)
        one = self.b.insert_element(undef, scalar, self.ir.Constant(self.ir.IntType(32), 0))
        return self.b.shuffle_vector(one, undef, self.splat_mask)

    def fma(self, a, x, acc):
        return self.b.call(self.fma_fn, [a, x, acc])

    def lane_sum(self, v):
        total = self.b.extract_element(v, self.ir.Constant(self.ir.IntType(32), 0))
        for lane in range(1, VEC):
            lane_v = self.b.extract_element(v, self.ir.Constant(self.ir.IntType(32), lane))
            total = self.b.fadd(total, lane_v)
        return total


def function(name: str, n_pointers: int):
    """A new module with one function ``name(float* x n_pointers, i64 start, i64 end)``, and
    an Emitter positioned at its entry."""
    binding, ir = _load_llvm()
    mod = ir.Module(name=name)
    mod.triple = binding.get_process_triple()
    f32p = ir.FloatType().as_pointer()
    i64 = ir.IntType(64)
    fn = ir.Function(mod, ir.FunctionType(ir.VoidType(), [f32p] * n_pointers + [i64, i64]), name)
    for arg in fn.args[:n_pointers]:
        arg.add_attribute("noalias")
    return mod, fn, Emitter(fn, ir)


# ------------------------------------------------------------------------------- compilation
def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "deepgrad" / "jit"


def _source_digest() -> str:
    """What the generated code depends on: the generators' source and the compiler."""
    import llvmlite

    h = hashlib.sha256(llvmlite.__version__.encode())
    here = Path(__file__).parent
    for path in [here / "jit.py", *sorted(here.glob("*_jit.py"))]:
        h.update(path.read_bytes())
    return h.hexdigest()


def _compile(name: str, shape: tuple, build, n_pointers: int):
    """The kernel as a ctypes function of (pointers..., start, end): object code from the
    cache, or else built, optimised and compiled for this CPU (and then cached)."""
    global _digest
    binding, _ = _load_llvm()
    cpu = binding.get_host_cpu_name()
    features = binding.get_host_cpu_features().flatten()
    if _digest is None:
        _digest = _source_digest()
    key = hashlib.sha256(repr((name, shape, cpu, features, _digest)).encode()).hexdigest()
    path = _cache_dir() / f"{name}-{key[:32]}.o"
    target = binding.Target.from_default_triple()
    machine = target.create_target_machine(cpu=cpu, features=features, opt=3)
    try:
        obj = path.read_bytes()
    except OSError:
        obj = None
    if obj is None:
        module = binding.parse_assembly(str(build(*shape)))
        module.verify()
        tuning = binding.create_pipeline_tuning_options(speed_level=3)
        passes = binding.create_pass_builder(machine, tuning)
        passes.getModulePassManager().run(module, passes)
        obj = machine.emit_object(module)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(obj)
            tmp.replace(path)  # atomic: a parallel process never reads half a file
        except OSError:  # a read-only home only costs compiling again next time
            pass
    engine = binding.create_mcjit_compiler(binding.parse_assembly(""), machine)
    engine.add_object_file(binding.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    _engines.append(engine)
    proto = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * n_pointers, ctypes.c_int64, ctypes.c_int64)
    return proto(engine.get_function_address(name))
