"""Kernels written in LLVM's intermediate language and compiled for this CPU, with llvmlite.

NumPy runs one elementwise pass at a time on one core; some ops (convolution, pooling, an
optimiser's step) need loops it cannot express without copies or extra passes. The kernel
files of this package write those loops as LLVM IR with the small ``Emitter`` below,
specialised to each shape (every size a constant), and ``kernel`` compiles each one once per
process, with the object code cached on disk (``~/.cache/deepgrad/jit``, or under
``XDG_CACHE_HOME``) so later processes skip compiling.

**Vector width.** Kernels are generated for the widest vectors the CPU has (``host_width``):

* ``AVX512`` (16 floats, 32 vector registers) where the CPU has AVX-512F. Partial vectors
  (the end of an array, the last images of a batch) are read and written with masked loads
  and stores, which AVX-512 does in one instruction each.
* ``AVX2`` (8 floats, 16 registers) where it has AVX2 and FMA. The same masked IR lowers to
  ``vmaskmovps``, so both widths share one code path and one set of tests.

The register tiles of each kernel are sized per width (``Width.registers``): twice the
registers hold twice the accumulators, so a tile covers as many floats per instruction as the
width allows without spilling (see each kernel file). ``DEEPGRAD_VECTOR_WIDTH=8`` forces the
AVX2 kernels on an AVX-512 CPU (to compare them); any other CPU, or ``DEEPGRAD_JIT=0``, or no
llvmlite, and ``available()`` is False: the ops then use their NumPy references.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import threading
from dataclasses import dataclass
from pathlib import Path

from deepgrad.utils.atomic import atomic_write


@dataclass(frozen=True)
class Width:
    """A vector instruction set the kernels can be generated for."""

    isa: str  # the name reports and benchmarks show
    vec: int  # float32 lanes per vector
    registers: int  # architectural vector registers: bounds a kernel's register tile
    needs: tuple  # CPU features (LLVM's names) it requires


AVX512 = Width("avx512", 16, 32, ("avx512f", "fma"))
AVX2 = Width("avx2", 8, 16, ("avx2", "fma"))
WIDTHS = (AVX512, AVX2)  # widest first

#: LLVM CPU names to compile each width for when it is not the host's (tests, object code only)
TARGET_CPUS = {"avx512": "skylake-avx512", "avx2": "haswell"}

_lock = threading.Lock()
_kernels: dict = {}
_engines: list = []  # compiled code lives as long as its engine
_llvm = None  # the llvmlite modules once loaded; False when unavailable
_width: Width | None = None
_digest: str | None = None


def choose_width(features, forced: str = "") -> Width | None:
    """The widest ``Width`` whose features are all in ``features`` (LLVM's name -> bool), or
    None. ``forced`` ("16" or "8", from ``DEEPGRAD_VECTOR_WIDTH``) caps the width."""
    for width in WIDTHS:
        if forced.isdigit() and width.vec > int(forced):
            continue
        if all(features.get(name) for name in width.needs):
            return width
    return None


# ------------------------------------------------------------------------------- availability
def _load_llvm():
    """llvmlite's (binding, ir) modules, initialised; None where it cannot serve this CPU."""
    global _llvm, _width
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
            forced = os.environ.get("DEEPGRAD_VECTOR_WIDTH", "")
            _width = choose_width(binding.get_host_cpu_features(), forced)
            if _width is not None:
                _llvm = (binding, ir)
    return _llvm or None


def available() -> bool:
    """True when kernels can be compiled and run here (see the module docstring)."""
    return _load_llvm() is not None


def host_width() -> Width | None:
    """The width this process's kernels use, or None when there are no kernels."""
    _load_llvm()
    return _width


def vec() -> int:
    """Floats per vector of this host's kernels (8 where there are none: layouts stay valid)."""
    w = host_width()
    return w.vec if w else AVX2.vec


def describe() -> dict:
    """What the kernels run on: ``{"isa", "vector_floats", "llvm_cpu"}`` (isa "numpy" when
    the NumPy references run instead)."""
    if not available():
        return {"isa": "numpy", "vector_floats": 1, "llvm_cpu": None}
    binding, _ = _load_llvm()
    return {"isa": _width.isa, "vector_floats": _width.vec, "llvm_cpu": binding.get_host_cpu_name()}


def kernel(kind: str, shape: tuple, build, n_pointers: int):
    """The kernel ``build(width, *shape)`` builds (a module defining the function ``kind``
    with ``n_pointers`` pointer arguments), compiled on first use in this process or loaded
    from the disk cache. The cache key covers the generator's source, so editing it
    recompiles."""
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
    stores at float offsets (whole or masked), broadcasts and fused multiply-adds, for one
    ``Width``."""

    def __init__(self, fn, ir, width: Width):
        self.ir = ir
        self.width = width
        self.vec_n = n = width.vec
        self.i32 = ir.IntType(32)
        self.i64 = ir.IntType(64)
        self.f32 = ir.FloatType()
        self.vec = ir.VectorType(self.f32, n)
        self.b = ir.IRBuilder(fn.append_basic_block("entry"))
        self.module = fn.module
        self.fma_fn = self._intrinsic(f"llvm.fma.v{n}f32", self.vec, [self.vec] * 3)
        self.zero = ir.Constant(self.vec, [0.0] * n)
        self.splat_mask = ir.Constant(ir.VectorType(self.i32, n), [0] * n)
        self.lanes = ir.Constant(ir.VectorType(self.i32, n), list(range(n)))

    def _intrinsic(self, name, ret, args):
        fn = self.module.globals.get(name)
        if fn is None:
            fn = self.ir.Function(self.module, self.ir.FunctionType(ret, args), name)
        return fn

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

    def elementwise(self, start, end, body):
        """``body(offset, mask)`` for every vector of floats in [start, end): whole vectors
        with mask None, then the last partial vector (if any) with a lane mask."""
        b = self.b
        whole = b.sub(end, b.srem(b.sub(end, start), self.const(self.vec_n)))
        self.loop(start, whole, lambda at, _: body(at, None), step=self.vec_n)
        with b.if_then(b.icmp_signed("<", whole, end)):
            body(whole, self.tail_mask(b.sub(end, whole)))

    def tail_mask(self, count):
        """The lane mask of the first ``count`` lanes (an i64 value, 0 < count < width)."""
        b = self.b
        undef = self.ir.Constant(self.lanes.type, self.ir.Undefined)
        one = b.insert_element(undef, b.trunc(count, self.i32), self.ir.Constant(self.i32, 0))
        return b.icmp_signed("<", self.lanes, b.shuffle_vector(one, undef, self.splat_mask))

    def vptr(self, base, offset, vtype=None):
        return self.b.bitcast(self.b.gep(base, [offset]), (vtype or self.vec).as_pointer())

    def load(self, base, offset, mask=None):
        """A vector of floats at ``base[offset]``; with ``mask`` only its lanes are read (the
        others are 0), so a partial vector at the end of an array reads nothing beyond it."""
        if mask is None:
            return self.b.load(self.vptr(base, offset), align=4)
        return self._masked_load(self.vptr(base, offset), mask, self.zero, 4)

    def store(self, value, base, offset, mask=None):
        """Store a vector at ``base[offset]``; with ``mask`` only its lanes are written."""
        if mask is None:
            self.b.store(value, self.vptr(base, offset), align=4)
        else:
            self._masked_store(value, self.vptr(base, offset), mask, 4)

    def _masked_load(self, ptr, mask, passthru, align):
        vt = passthru.type
        name = f"llvm.masked.load.{_mangle(vt)}.p0"
        fn = self._intrinsic(name, vt, [ptr.type, self.i32, mask.type, vt])
        return self.b.call(fn, [ptr, self.ir.Constant(self.i32, align), mask, passthru])

    def _masked_store(self, value, ptr, mask, align):
        vt = value.type
        name = f"llvm.masked.store.{_mangle(vt)}.p0"
        args = [vt, ptr.type, self.i32, mask.type]
        fn = self._intrinsic(name, self.ir.VoidType(), args)
        self.b.call(fn, [value, ptr, self.ir.Constant(self.i32, align), mask])

    def _bytes_ptr(self, base, offset):
        i8 = self.ir.IntType(8)
        p = self.b.gep(self.b.bitcast(base, i8.as_pointer()), [offset])
        return self.b.bitcast(p, self.ir.VectorType(i8, self.vec_n).as_pointer())

    def load_bytes(self, base, offset, mask=None):
        """``width`` bytes from a float pointer that really points to uint8, at a byte
        offset (only the lanes of ``mask``, when given)."""
        ptr = self._bytes_ptr(base, offset)
        if mask is None:
            return self.b.load(ptr, align=1)
        vt = self.ir.VectorType(self.ir.IntType(8), self.vec_n)
        return self._masked_load(ptr, mask, self.ir.Constant(vt, [0] * self.vec_n), 1)

    def store_bytes(self, value, base, offset, mask=None):
        ptr = self._bytes_ptr(base, offset)
        if mask is None:
            self.b.store(value, ptr, align=1)
        else:
            self._masked_store(value, ptr, mask, 1)

    def prefetch(self, base, offset):
        """Ask for the cache line holding ``base[offset]`` (a float), to be read soon, into
        every cache level (``llvm.prefetch``: a hint, which never faults)."""
        i8p = self.ir.IntType(8).as_pointer()
        fn = self._intrinsic("llvm.prefetch.p0", self.ir.VoidType(), [i8p] + [self.i32] * 3)
        at = self.b.bitcast(self.b.gep(base, [offset]), i8p)
        read, all_levels, data = (self.ir.Constant(self.i32, v) for v in (0, 3, 1))
        self.b.call(fn, [at, read, all_levels, data])

    def splat(self, scalar):
        undef = self.ir.Constant(self.vec, self.ir.Undefined)
        one = self.b.insert_element(undef, scalar, self.ir.Constant(self.i32, 0))
        return self.b.shuffle_vector(one, undef, self.splat_mask)

    def broadcast(self, base, offset):
        """The float ``base[offset]`` in every lane."""
        return self.splat(self.b.load(self.b.gep(base, [offset])))

    def fma(self, a, x, acc):
        return self.b.call(self.fma_fn, [a, x, acc])

    def sqrt(self, v):
        fn = self._intrinsic(f"llvm.sqrt.v{self.vec_n}f32", self.vec, [self.vec])
        return self.b.call(fn, [v])

    def lane_sum(self, v):
        total = self.b.extract_element(v, self.ir.Constant(self.i32, 0))
        for lane in range(1, self.vec_n):
            lane_v = self.b.extract_element(v, self.ir.Constant(self.i32, lane))
            total = self.b.fadd(total, lane_v)
        return total


def _mangle(vtype) -> str:
    """LLVM's type suffix of an intrinsic overloaded on a vector type: v16f32, v8i8, ..."""
    elem = "f32" if str(vtype.element) == "float" else f"i{vtype.element.width}"
    return f"v{vtype.count}{elem}"


def function(name: str, n_pointers: int, width: Width):
    """A new module with one function ``name(float* x n_pointers, i64 start, i64 end)``, and
    an Emitter for ``width`` positioned at its entry."""
    from llvmlite import ir

    mod = ir.Module(name=name)
    mod.triple = "x86_64-unknown-linux-gnu"  # replaced by the host's when compiled here
    f32p = ir.FloatType().as_pointer()
    i64 = ir.IntType(64)
    fn = ir.Function(mod, ir.FunctionType(ir.VoidType(), [f32p] * n_pointers + [i64, i64]), name)
    for arg in fn.args[:n_pointers]:
        arg.add_attribute("noalias")
    return mod, fn, Emitter(fn, ir, width)


def object_code(module, width: Width, cpu: str | None = None, assembly: bool = False):
    """``module`` (llvmlite IR) verified, optimised and compiled to x86-64 object code (or
    with ``assembly`` its assembly text) for ``width`` on the LLVM CPU ``cpu`` (default
    ``TARGET_CPUS[width.isa]``), without running it: how the tests check the kernels of a
    width this CPU does not have."""
    import llvmlite.binding as binding

    binding.initialize_native_target()
    binding.initialize_native_asmprinter()
    features = ",".join("+" + f for f in width.needs)
    machine = binding.Target.from_triple("x86_64-unknown-linux-gnu").create_target_machine(
        cpu=cpu or TARGET_CPUS[width.isa], features=features, opt=3
    )
    return _optimise_and_emit(binding, machine, str(module), assembly)


def _optimise_and_emit(binding, machine, source: str, assembly: bool = False):
    module = binding.parse_assembly(source)
    module.verify()
    tuning = binding.create_pipeline_tuning_options(speed_level=3)
    passes = binding.create_pass_builder(machine, tuning)
    passes.getModulePassManager().run(module, passes)
    return machine.emit_assembly(module) if assembly else machine.emit_object(module)


# ------------------------------------------------------------------------------- compilation
def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "deepgrad" / "jit"


def _source_digest() -> str:
    """What the generated code depends on: the generators' source and the compiler."""
    import llvmlite

    h = hashlib.sha256(llvmlite.__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
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
    key = repr((name, shape, cpu, features, _width, _digest))
    path = _cache_dir() / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.o"
    target = binding.Target.from_default_triple()
    machine = target.create_target_machine(cpu=cpu, features=features, opt=3)
    try:
        obj = path.read_bytes()
    except OSError:
        obj = None
    if obj is None:
        module = build(_width, *shape)
        module.triple = binding.get_process_triple()
        obj = _optimise_and_emit(binding, machine, str(module))
        try:
            atomic_write(path, obj)  # a parallel process never reads half a file
        except OSError:  # a read-only home only costs compiling again next time
            pass
    engine = binding.create_mcjit_compiler(binding.parse_assembly(""), machine)
    engine.add_object_file(binding.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    _engines.append(engine)
    proto = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * n_pointers, ctypes.c_int64, ctypes.c_int64)
    return proto(engine.get_function_address(name))
