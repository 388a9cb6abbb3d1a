"""Fused optimiser steps: one multi-threaded pass over all float32 parameters of a group.

The reference steps (``deepgrad/optim/*.py``) make one NumPy pass per operation, each over a
whole parameter and on one core: SGD with momentum reads and writes every parameter, gradient
and buffer five times. These kernels load each element once, do the whole update in
registers and store it, with the threads splitting all the group's parameters into equal
shares (``threads.run_segments``).

**Same numbers as the reference, bit for bit.** Each kernel does the reference's float32
operations in the reference's order (which is PyTorch's single-tensor order: see each
optimiser's docstring), each rounded to float32 on its own: no fused multiply-add (LLVM only
contracts ``a * b + c`` when told to, and these kernels never tell it), division and square
root correctly rounded as in NumPy. The Python-float hyper-parameters are rounded to float32
as NumPy rounds them when it multiplies a float32 array by them. So special values (NaN,
infinities, -0.0) come out as in the reference, and the 50-step trajectory tests against
PyTorch hold to the same tolerances on either path.

Each algorithm is a set of compile-time flags (which terms exist) and a float32 vector of
per-parameter scalars; the kernel's arguments are the parameter's arrays, in the order below,
then the scalars. ``_lerp`` is PyTorch's ``lerp_`` as the reference writes it.

=========  ====================================================  ======================
algorithm  flags                                                 arrays after x, g
=========  ====================================================  ======================
sgd        decay, maximize, momentum, dampening, nesterov        momentum buffer
adam       decay, decoupled, maximize, lerp_low, amsgrad         m, v (, v_max)
rmsprop    decay, maximize, centered, lerp_low, momentum         v (, buffer) (, g_avg)
adagrad    decay, maximize                                       sum
=========  ====================================================  ======================
"""

from __future__ import annotations

import numpy as np

from deepgrad.kernels import compiler, threads
from deepgrad.kernels.pointers import address

#: Groups with fewer elements than this run on one thread: starting the others costs more.
_THREADS_MIN = 1 << 15
_CHUNK = 16  # shares are cut at multiples of this many vectors

#: scalars each algorithm's kernel reads, in order
SCALARS = {
    "sgd": ("weight_decay", "momentum", "one_minus_dampening", "lr"),
    "adam": (
        "decay",
        "lerp_weight",
        "beta2",
        "one_minus_beta2",
        "bias_correction2_sqrt",
        "eps",
        "step_size",
    ),  # fmt: skip
    "rmsprop": (
        "weight_decay",
        "alpha",
        "one_minus_alpha",
        "lerp_weight",
        "eps",
        "momentum",
        "lr",
    ),  # fmt: skip
    "adagrad": ("weight_decay", "eps", "clr"),
}


_FLOAT32 = np.dtype(np.float32)


def usable(arrays) -> bool:
    """True when every array is a C-contiguous float32 NumPy array of its parameter's size.
    (``dtype is`` NumPy's one float32 instance first: 28 against 57 ns an array, and a small
    model's Adam step asks for 16; an equal dtype that is another object is compared too.)"""
    if not compiler.available():
        return False
    for group in arrays:
        size = group[0].size
        for a in group:
            if type(a) is not np.ndarray or a.size != size:
                return False
            if a.dtype is not _FLOAT32 and a.dtype != _FLOAT32:
                return False
            if not a.flags.c_contiguous:
                return False
    return True


def step(algorithm: str, flags: tuple, arrays: list, scalars: list) -> None:
    """Run the fused update ``algorithm`` with ``flags`` over every parameter's ``arrays``,
    each with its ``scalars`` (Python floats, rounded to float32 here)."""
    n_pointers = len(arrays[0]) + 1
    shape = tuple(flags) + (n_pointers,)
    kernel = compiler.kernel(algorithm, shape, BUILDERS[algorithm], n_pointers)
    # One float32 row of scalars per parameter, in one array (kept alive until the pass is
    # done): a pointer per row costs an addition, not a NumPy array and its ctypes object.
    packed = np.array(scalars, np.float32).reshape(len(scalars), -1)
    base, row = address(packed), packed.strides[0]
    pieces = [
        (tuple(map(address, group)) + (base + i * row,), group[0].size)
        for i, group in enumerate(arrays)
        if group[0].size
    ]
    total = sum(size for _, size in pieces)
    if total < _THREADS_MIN:  # a small model: each parameter in one call, on this thread
        for args, size in pieces:
            kernel(*args, 0, size)
        return
    threads.run_segments(kernel, pieces, _CHUNK * compiler.vec(), threads.num_threads())


# ---------------------------------------------------------------------------- the kernels
class _Ops:
    """Float32 vector arithmetic for the kernels below, each operation rounded on its own."""

    def __init__(self, e, scalars):
        self.e, self.b = e, e.b
        self.scalars = scalars
        self.cache = {}

    def s(self, k: int):
        """Scalar k, in every lane (loaded once per kernel call, at its entry)."""
        if k not in self.cache:
            self.cache[k] = self.e.broadcast(self.scalars, self.e.const(k))
        return self.cache[k]

    def mul(self, a, b):
        return self.b.fmul(a, b)

    def add(self, a, b):
        return self.b.fadd(a, b)

    def sub(self, a, b):
        return self.b.fsub(a, b)

    def div(self, a, b):
        return self.b.fdiv(a, b)

    def neg(self, a):
        return self.b.fneg(a)

    def sqrt(self, a):
        return self.e.sqrt(a)

    def maximum(self, a, b):
        """NumPy's maximum: NaN if either is NaN, else the larger."""
        b_ = self.b
        larger = b_.select(b_.fcmp_ordered(">=", a, b), a, b)
        return b_.select(b_.fcmp_unordered("uno", a, b), b_.fadd(a, b), larger)

    def lerp(self, start, end, low: bool, k: int):
        """The reference's ``_lerp_``: start + w (end - start) for w < 0.5 (scalar k = w),
        else end - (end - start) (1 - w) (scalar k = 1 - w)."""
        t = self.mul(self.sub(end, start), self.s(k))
        return self.add(start, t) if low else self.sub(end, t)

    def direction(self, x, g, decay: bool, maximize: bool, k: int = 0):
        """The optimiser's ``_direction``: (x * wd) -/+ g, or -g, or g."""
        if decay:
            d = self.mul(x, self.s(k))
            return self.sub(d, g) if maximize else self.add(d, g)
        return self.neg(g) if maximize else g


def _kernel(name, width, flags, n_pointers, update):
    """Module ``name``(arrays..., scalars, start, end) applying ``update(ops, loaded)`` (which
    returns {array index: new vector}) to every element in [start, end)."""
    mod, fn, e = compiler.function(name, n_pointers, width)
    *ptrs, scalars = fn.args[:n_pointers]
    start, end = fn.args[n_pointers:]
    ops = _Ops(e, scalars)
    for k in range(len(SCALARS[name])):  # at the entry: the loop and the tail both use them
        ops.s(k)

    def body(at, mask):
        loaded = [e.load(p, at, mask) for p in ptrs]
        for index, value in update(ops, loaded).items():
            e.store(value, ptrs[index], at, mask)

    e.elementwise(start, end, body)
    e.b.ret_void()
    return mod


def sgd_ir(width, decay, maximize, momentum, dampening, nesterov, n_pointers):
    def update(o, a):
        x, g = a[0], a[1]
        d = o.direction(x, g, decay, maximize)
        out = {}
        if momentum:
            buf = o.mul(a[2], o.s(1))
            buf = o.add(buf, o.mul(d, o.s(2)) if dampening else d)
            out[2] = buf
            d = o.add(d, o.mul(buf, o.s(1))) if nesterov else buf
        out[0] = o.sub(x, o.mul(d, o.s(3)))
        return out

    return _kernel("sgd", width, None, n_pointers, update)


def adam_ir(width, decay, decoupled, maximize, lerp_low, amsgrad, n_pointers):
    def update(o, a):
        x, g, m, v = a[:4]
        if decoupled:
            if decay:
                x = o.mul(x, o.s(0))
            d = o.direction(x, g, False, maximize)
        else:
            d = o.direction(x, g, decay, maximize)
        m = o.lerp(m, d, lerp_low, 1)
        v = o.add(o.mul(v, o.s(2)), o.mul(o.mul(d, o.s(3)), d))
        out = {2: m, 3: v}
        if amsgrad:
            v = out[4] = o.maximum(a[4], v)
        denom = o.add(o.div(o.sqrt(v), o.s(4)), o.s(5))
        out[0] = o.sub(x, o.mul(o.div(m, denom), o.s(6)))
        return out

    return _kernel("adam", width, None, n_pointers, update)


def rmsprop_ir(width, decay, maximize, centered, lerp_low, momentum, n_pointers):
    def update(o, a):
        x, g, v = a[:3]
        d = o.direction(x, g, decay, maximize)
        v = o.add(o.mul(v, o.s(1)), o.mul(o.mul(d, o.s(2)), d))
        out = {2: v}
        at = 3 + bool(momentum)  # g_avg's index
        if centered:
            ga = out[at] = o.lerp(a[at], d, lerp_low, 3)
            t = o.sqrt(o.sub(v, o.mul(ga, ga)))
        else:
            t = o.sqrt(v)
        t = o.div(d, o.add(t, o.s(4)))
        if momentum:
            buf = out[3] = o.add(o.mul(a[3], o.s(5)), t)
            t = o.mul(buf, o.s(6))
        else:
            t = o.mul(t, o.s(6))
        out[0] = o.sub(x, t)
        return out

    return _kernel("rmsprop", width, None, n_pointers, update)


def adagrad_ir(width, decay, maximize, n_pointers):
    def update(o, a):
        x, g, s = a
        d = o.direction(x, g, decay, maximize)
        s = o.add(s, o.mul(d, d))
        t = o.mul(o.div(d, o.add(o.sqrt(s), o.s(1))), o.s(2))
        return {2: s, 0: o.sub(x, t)}

    return _kernel("adagrad", width, None, n_pointers, update)


BUILDERS = {"sgd": sgd_ir, "adam": adam_ir, "rmsprop": rmsprop_ir, "adagrad": adagrad_ir}
