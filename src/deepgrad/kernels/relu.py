"""ReLU forward and backward in one pass over large float32 arrays, on all threads.

NumPy runs the backward as two passes with a boolean array in between; this kernel streams
g and y once, split over the threads. The forward is one pass in NumPy already, and measured
right after the product that makes x, the threads pay from about 400,000 elements: on the
OpenMP team (``openmp.py``) 111 us against NumPy's 172 us at 512,000 (the MLP's first ReLU at
batch 1000), 116 against 129 us at 393,216, 102 against 95 us at 262,144. (On the Python
thread pool it replaced, only from about a million.) On the course CNN the kernels took ReLU
from about 6.5 to 4.8 ms a step.

Semantics are those of the NumPy reference in ``ops/elementwise.py`` (``ReLU``), which are
PyTorch's, bit for bit, special values included:

* forward  y = 0 where x < 0, else x: NaN stays NaN and -0.0 stays -0.0 (``torch.relu``);
* backward dx = 0 where y <= 0, else g (``threshold_backward``): a NaN output passes its
  gradient, and an infinite gradient at a zero output gives 0, not NaN.

The last partial vector of an array is read and written with masked loads and stores.
"""

from __future__ import annotations

import numpy as np

from deepgrad.kernels import compiler, threads
from deepgrad.kernels.pointers import address

#: Arrays smaller than these (in elements) stay with NumPy (the forward) or run the kernel on
#: the calling thread alone (the backward, from ``BACKWARD_MIN_ONE_THREAD``): NumPy's
#: ``where`` branches on every element, and on a ReLU's mask, about half of them set at
#: random, it mispredicts so often that the course MLP's 128 x 512 backward took 230 us in
#: NumPy against about 10 us here.
FORWARD_MIN = 3 << 17  # 393,216
BACKWARD_MIN = 1 << 18
BACKWARD_MIN_ONE_THREAD = 1 << 12
#: In place (inference, no graph: ``relu_``; a Sequential's Linear + ReLU), the kernel beat
#: NumPy's ``maximum(0, x, out=x)`` alone from about 65,536 elements on one thread (9 against
#: 12 us; at 16,384: 6 against 4), but inside a training step from far fewer: on W1's
#: 128 x 256 ReLU 8.3 against 21.7 us (alternate steps of one run), so from 4,096 elements,
#: as the backward. Two threads pay where the array was just written by two threads, as by
#: the products and convolutions before a ReLU (each core then finds its half in its own
#: cache): at 256,000 26 us against 37 on one thread, and 49 against 84 at 512,000; an array
#: written by one core costs the second thread's start (at 131,072: 28 against 17 us).
INPLACE_MIN = 1 << 12
INPLACE_MIN_THREADS = 1 << 17
#: Below the thread thresholds a C-ordered array goes straight to its kernel: in a training
#: step each layer of Python between the op and the kernel costs several times what it does
#: in a loop of its own (the step's products have evicted it from the caches). On the course
#: MLP's W1 step that took the ReLUs' backward from 54 to 27 us (128 x 256) and 57 to 36
#: (128 x 512), the views ``dense`` made and the thread split skipped.
_CHUNK = 64  # vectors per share boundary: threads split at multiples of this many vectors


def dense(a):
    """a's memory as a flat view, with the axis order that lays it out, or (None, None) when
    a does not cover one contiguous block."""
    order = sorted(range(a.ndim), key=lambda i: -a.strides[i])
    t = a.transpose(order)
    return (t.reshape(-1), order) if t.flags.c_contiguous else (None, None)


def usable(a, backward: bool = False, least: int | None = None) -> bool:
    """True for NumPy float32 arrays big enough for the kernels to pay (see above)."""
    if least is None:
        least = BACKWARD_MIN_ONE_THREAD if backward else FORWARD_MIN
    return (
        type(a) is np.ndarray and a.dtype == np.float32 and a.size >= least and compiler.available()
    )


def _run(name, build, arrays):
    """Apply kernel ``name`` to the flat arrays (the last is written), split over the threads."""
    kernel = compiler.kernel(name, (), build, len(arrays))
    ptrs = tuple([address(a) for a in arrays])
    size = arrays[0].size
    if size < BACKWARD_MIN:  # on this thread, called directly: a training step's ReLUs are
        kernel(*ptrs, 0, size)  # small, and each Python layer costs them microseconds
    else:
        threads.run_segments(kernel, [(ptrs, size)], _CHUNK * compiler.vec(), threads.num_threads())


def forward(x):
    """y = relu(x) in x's memory layout, or None when x is not one contiguous block."""
    flat, order = dense(x)
    if flat is None:
        return None
    out = np.empty(flat.size, np.float32)
    _run("relu", forward_ir, (flat, out))
    return out.reshape([x.shape[i] for i in order]).transpose(np.argsort(order))


def forward_inplace(x) -> bool:
    """x = relu(x) in x's own memory; False (nothing done) when x is not one contiguous block
    or is read-only."""
    if not x.flags.writeable:
        return False
    flat = x if x.flags.c_contiguous else dense(x)[0]
    if flat is None:
        return False
    kernel = compiler.kernel("relu_inplace", (), inplace_ir, 1)
    if x.size < INPLACE_MIN_THREADS:  # on this thread, called directly (see _run)
        kernel(address(flat), 0, x.size)
    else:
        align = _CHUNK * compiler.vec()
        threads.run_segments(kernel, [((address(flat),), x.size)], align, threads.num_threads())
    return True


def backward(g, y):
    """dx of relu from g and the output y, in y's memory layout (g is copied into it when laid
    out otherwise); None when y is not one contiguous block or g is not float32."""
    if g.dtype != np.float32 or g.shape != y.shape:
        return None
    if g.flags.c_contiguous and y.flags.c_contiguous:  # the usual case, without views
        out = np.empty(y.shape, np.float32)
        _run("relu_grad", backward_ir, (g, y, out))
        return out
    yf, order = dense(y)
    if yf is None:
        return None
    gf, g_order = dense(g)
    if gf is None or g_order != order:  # e.g. a gradient coming from a flatten: one copy
        same = np.empty_like(y)  # empty_like keeps y's layout
        same[...] = g
        gf, _ = dense(same)
    out = np.empty(gf.size, np.float32)
    _run("relu_grad", backward_ir, (gf, yf, out))
    return out.reshape([y.shape[i] for i in order]).transpose(np.argsort(order))


def rectified(e, v):
    """The vector v with its lanes below 0 set to 0: NaN and -0.0 compare false, so both are
    kept (``torch.relu``). Every forward ReLU kernel uses this one comparison."""
    below = e.b.fcmp_ordered("<", v, e.zero)
    return e.b.select(below, e.zero, v)


def forward_ir(width):
    """relu(x, y, start, end): y = 0 where x < 0 else x, for the floats [start, end)."""
    mod, fn, e = compiler.function("relu", 2, width)
    x, y, start, end = fn.args

    def body(at, mask):
        e.store(rectified(e, e.load(x, at, mask)), y, at, mask)

    e.elementwise(start, end, body)
    e.b.ret_void()
    return mod


def inplace_ir(width):
    """relu_inplace(x, start, end): x = 0 where x < 0, for the floats [start, end). A kernel
    of its own rather than ``relu`` with x and y the same array: its pointers are declared
    not to alias."""
    mod, fn, e = compiler.function("relu_inplace", 1, width)
    x, start, end = fn.args

    def body(at, mask):
        e.store(rectified(e, e.load(x, at, mask)), x, at, mask)

    e.elementwise(start, end, body)
    e.b.ret_void()
    return mod


def backward_ir(width):
    """relu_grad(g, y, dx, start, end): dx = 0 where y <= 0 else g."""
    mod, fn, e = compiler.function("relu_grad", 3, width)
    g, y, dx, start, end = fn.args

    def body(at, mask):
        blocked = e.b.fcmp_ordered("<=", e.load(y, at, mask), e.zero)
        e.store(e.b.select(blocked, e.zero, e.load(g, at, mask)), dx, at, mask)

    e.elementwise(start, end, body)
    e.b.ret_void()
    return mod
