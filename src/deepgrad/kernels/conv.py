"""Direct float32 convolution kernels, generated as LLVM IR and compiled for this CPU.

Why this exists: on a CPU the column-matrix convolutions of ``ops/conv.py`` spend as long
copying columns, padding and adding shifted blocks as OpenBLAS spends multiplying, and the
products themselves have awkward shapes (a short reduction over channels x kernel columns).
Profiled on the course CNN (two AVX2 cores), their products alone added up to 64% of
PyTorch's whole training step. A direct convolution reads the padded input where it lies and
keeps its partial sums in registers, so there is nothing to copy. NumPy cannot express it, so
deepgrad writes the two loops below in LLVM's intermediate language (with ``llvmlite``, a
wheel from PyPI), specialised to each shape and compiled once; the object code is cached on
disk. Without llvmlite, without AVX2 and FMA, for other dtypes or with ``DEEPGRAD_JIT=0``,
``ops/conv.py`` uses its NumPy path, which stays the tested reference. (``compiler.py`` holds
the compiler; this file the two kernels.)

Semantics: the same sums as the reference, in another order (over channels and kernel offsets,
with fused multiply-adds), so the results agree to float32 rounding (tests: 1e-4 relative),
not bit for bit. NaN and infinities propagate as in any sum of products, and the same
products are formed as in the reference: the forward multiplies the padding's zeros by the
weights too (an infinite weight beside the padding gives NaN there, 0 * inf), as PyTorch's
float64 convolution (im2col) does; PyTorch's float32 oneDNN kernels skip the padding, so in
float32 PyTorch's own answer there depends on the algorithm it picks, and deepgrad follows
float64. The input gradient through ``forward`` would multiply the zeros around dY by every
weight, so ``ops/conv.py`` only takes that route for finite weights (else col2im).

Accumulation order (issue 16): a float32 chain of k products rounds with an error that grows
with k, so no chain is left to run over a whole reduction. The forward's longest chain is
bias + ``_CHANNEL_BLOCK`` x kh x kw products (101 for a 5 x 5 kernel), then one add per
further block; the weight gradient's is OW x N/16 (AVX-512; N/8 on AVX2) products per lane,
then one add per output row and a sum over the lanes. Before, the chains ran across the
blocks and rows (C x kh x kw and OH x OW x N/16 products). Measured on the course CNN
(batch 128, standard-normal data, 3 seeds), the mean absolute error over the mean absolute
float64 value, kernels / NumPy path (OpenBLAS), 1e-7: Conv2d(1, 16, 5, padding=2) on 28 x 28:
output 0.78 / 0.79, input gradient 1.7 / 1.6 (was 3.1), weight gradient 2.9 / 4.6 (was 14);
Conv2d(16, 32, 5, padding=2) on 14 x 14: output 1.6 / 1.6 (was 2.9), input gradient 1.7 /
2.1 (was 4.1), weight gradient 2.1 / 3.9 (was 6.5). The largest errors (over the largest
value) went from 1.1e-6 to 3.3e-7 at most (NumPy path: 7.2e-7 at most). The speed did not
change (the extra adds are one per 100 or more fused multiply-adds);
``tests/kernels/test_kernels_conv_accuracy.py`` holds the kernels to the NumPy path's error.

Both kernels work on deepgrad's batch-innermost layout (C, H, W, N), with two changes made
while padding: the batch is padded with zeros to a multiple of the vector width (8 or 16
floats), and each position gets ``_POSITION_PAD`` more floats, because with N = 128
positions 512 bytes apart would put every load of a tile into 8 of the 64 sets of the L1 cache.

* ``forward``: out[o, i, j, n] = b[o] + sum_{c,p,q} w[o,c,p,q] x[c, i*sh + p*dh, j*sw + q*dw, n].
  A register tile holds 4 output channels x 2 vectors of images (AVX2: 16 images, 8
  accumulators) or x 4 vectors (AVX-512: 64 images, 16 accumulators; ``_image_vectors``) at
  one output position. Each step of the reduction loads the input vectors, broadcasts 4
  weights and does 8 or 16 fused multiply-adds. The reduction runs over a block of
  ``_CHANNEL_BLOCK`` channels and all kernel offsets, so that a block's inputs stay in the L1
  cache; the first block starts from the bias and is stored, each later block starts from
  zero and its sums are added to the stored ones.
* ``weight_grad``: dw[o,c,p,q] = sum_{i,j,n} dy[o,i,j,n] x[c, i*sh + p*dh, j*sw + q*dw, n].
  A register tile holds a few output channels x a few kernel columns, each a vector of
  images, reduced over one output row at a time (whose inputs fit in L1) from zero, added
  into a small stack array of totals after each row, and summed across the lanes at the end
  (``_accumulators``).

The input gradient of a stride-1 convolution is itself a convolution (``ops/conv.py`` shows
how), so it runs ``forward``. The threads split the output rows (forward) or the pairs of
output channel block and input channel (weight gradient): every thread writes its own
outputs.
"""

from __future__ import annotations

import threading

import numpy as np

from deepgrad.kernels import compiler, threads
from deepgrad.kernels.pointers import address

_OUT_BLOCK = 4  # output channels per forward register tile
_CHANNEL_BLOCK = 4  # input channels reduced before the partial sums go back to memory
_POSITION_PAD = 16  # extra floats after each position's images (see the module docstring)
_MAX_KERNEL_WIDTH = 32  # kernel columns are unrolled into straight-line code; wider: NumPy
_UNROLLED_OFFSETS = 32  # kernels with at most this many offsets have their rows unrolled too


def _image_vectors(width) -> int:
    """Vectors of images per forward register tile: 4 x 2 accumulators plus 2 inputs and a
    broadcast weight use 11 of AVX2's 16 registers; AVX-512's 32 registers hold 4 x 4
    accumulators plus 4 inputs and a weight (21), so a tile covers 64 images, not 16, and each
    weight broadcast feeds 4 fused multiply-adds instead of 2."""
    return 2 if width.registers <= 16 else 4


def _accumulators(width) -> int:
    """Vector registers a weight-gradient tile may hold: three quarters of the registers
    (12 of AVX2's 16, 24 of AVX-512's 32), the rest for the loaded inputs and gradients."""
    return width.registers * 3 // 4


_scratch = threading.local()


def _work(size: int):
    """A reused flat float32 work buffer of ``size`` floats, one per thread."""
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.size < size:
        buf = _scratch.buf = np.empty(size, np.float32)
    return buf[:size]


def usable(x, weight, groups: int, kernel_width: int) -> bool:
    """True when ``forward`` and ``weight_grad`` can compute this convolution."""
    return (
        type(x) is np.ndarray
        and x.dtype == np.float32
        and weight.dtype == np.float32
        and groups == 1
        and kernel_width <= _MAX_KERNEL_WIDTH
        and compiler.available()
    )


# ------------------------------------------------------------------------------------ layout
def padded_batch(n: int) -> int:
    """The batch rounded up to whole vectors."""
    vec = compiler.vec()
    return -(-n // vec) * vec


def padded_shape(x_shape, padding):
    c, h, w, n = x_shape
    pt, pb, pl, pr = padding
    return (c, h + pt + pb, w + pl + pr, padded_batch(n) + _POSITION_PAD)


def pad_input(x_cnhw, padding, work=None):
    """(C, H, W, N) -> (C, H+pt+pb, W+pl+pr, N8 + _POSITION_PAD) holding x inside zeros: the
    layout both kernels read. A new array, or the flat float32 ``work`` buffer (at least that
    size) reshaped. Only what the kernels read is written: the padding, x, and the images
    N..N8 (zeros: in the weight gradient they multiply zero gradients, and 0 * NaN would not
    be 0); the last ``_POSITION_PAD`` floats of each position are never read."""
    shape = padded_shape(x_cnhw.shape, padding)
    if work is None:
        buf = np.empty(shape, np.float32)
    else:
        buf = work[: int(np.prod(shape))].reshape(shape)
    c, h, w, n = x_cnhw.shape
    pt, pb, pl, pr = padding
    n8 = padded_batch(n)
    buf[:, :pt, :, :n8] = 0
    buf[:, pt + h :, :, :n8] = 0
    rows = buf[:, pt : pt + h]
    rows[:, :, :pl, :n8] = 0
    rows[:, :, pl + w :, :n8] = 0
    rows[:, :, pl : pl + w, n:n8] = 0
    rows[:, :, pl : pl + w, :n] = x_cnhw
    return buf


def _blocked_weight(weight):
    """(O, C, kh, kw) -> (ceil(O/4), C, kh, kw, 4): a tile's 4 weights for one (c, p, q) side
    by side; output channels past O get zero weights."""
    o = weight.shape[0]
    ob = -(-o // _OUT_BLOCK)
    w = np.zeros((ob * _OUT_BLOCK,) + weight.shape[1:], np.float32)
    w[:o] = weight
    w = w.reshape(ob, _OUT_BLOCK, *weight.shape[1:]).transpose(0, 2, 3, 4, 1)
    return np.ascontiguousarray(w)


# ------------------------------------------------------------------------------------ kernels
def forward(xbuf, weight, bias, n: int, out_hw, stride, dilation):
    """out (O, OH, OW, N) = the convolution of ``xbuf`` (from ``pad_input``) with ``weight``
    (O, C, kh, kw) plus ``bias`` (O,) or nothing."""
    o, c, kh, kw = weight.shape
    oh, ow = out_hw
    n8 = padded_batch(n)
    shape = (xbuf.shape, weight.shape, out_hw, n8, stride, dilation)
    kernel = compiler.kernel("forward", shape, forward_ir, 4)
    ob = -(-o // _OUT_BLOCK)
    out = np.empty((ob * _OUT_BLOCK, oh, ow, n8), np.float32)
    wb = _blocked_weight(weight)
    b = np.zeros(ob * _OUT_BLOCK, np.float32)
    if bias is not None:
        b[:o] = bias
    args = (address(xbuf), address(wb), address(b), address(out))
    threads.run_split(kernel, args, oh)
    out = out[:o]
    return out if n8 == n else np.ascontiguousarray(out[..., :n])


def input_grad(grad_cnhw, flipped, pads, n: int, out_hw, dilation):
    """dx (C, H, W, N) of a stride-1 convolution as the forward convolution of the output
    gradient (O, OH, OW, N), padded by ``pads``, with the ``flipped`` kernel (C, O, kh, kw)
    (``ops/conv.py``'s ``_transposed_conv`` says why)."""
    size = int(np.prod(padded_shape(grad_cnhw.shape, pads)))
    gbuf = pad_input(grad_cnhw, pads, _work(size))
    return forward(gbuf, flipped, None, n, out_hw, (1, 1), dilation)


def weight_grad(xbuf, grad, kernel_hw, stride, dilation):
    """dw (O, C, kh, kw) from the padded input ``xbuf`` and the output gradient ``grad``
    (O, OH, OW, N), which may be any strided view."""
    o, oh, ow, n = grad.shape
    c = xbuf.shape[0]
    kh, kw = kernel_hw
    n8 = padded_batch(n)
    if n8 == n and grad.flags.c_contiguous:
        dy = grad
    else:  # the padded images must be zero: their inputs are zero, but 0 * garbage need not be
        dy = np.zeros((o, oh, ow, n8), np.float32)
        dy[..., :n] = grad
    outs = _wgrad_outputs(o, kw, _accumulators(compiler.host_width()))
    shape = (xbuf.shape, (o, c, kh, kw), (oh, ow), n8, stride, dilation, outs)
    kernel = compiler.kernel("weight_grad", shape, weight_grad_ir, 3)
    dw = np.empty((o, c, kh, kw), np.float32)
    threads.run_split(kernel, (address(xbuf), address(dy), address(dw)), (o // outs) * c)
    return dw


def _wgrad_outputs(o: int, kw: int, accumulators: int) -> int:
    """Output channels per weight-gradient tile: as many as fit the registers with the tile's
    kernel columns, and divide O."""
    cols = min(kw, accumulators // 2)
    for outs in (4, 3, 2, 1):
        if outs * cols <= accumulators and o % outs == 0:
            return outs
    return 1


def forward_ir(width, xshape, wshape, out_hw, n8, stride, dilation):
    """forward(x, w_blocked, bias, out, i0, i1) for the output rows [i0, i1)."""
    mod, fn, e = compiler.function("forward", 4, width)
    vec, image_vectors = width.vec, _image_vectors(width)
    x, w, bias, out, t0, t1 = fn.args
    o, c, kh, kw = wshape
    blocks = -(-o // _OUT_BLOCK)
    _, hp, wp, pos = xshape
    oh, ow = out_hw
    (sh, sw), (dh, dw) = stride, dilation
    xc, xr = hp * wp * pos, wp * pos  # input strides (floats): channel, row; a position: pos
    orow, ochan = ow * n8, oh * ow * n8  # output strides
    wc = kh * kw * _OUT_BLOCK  # blocked-weight stride of one input channel
    full, rest = divmod(n8 // vec, image_vectors)  # whole image tiles, and one of fewer vectors
    b = e.b

    def tile(ob, i, o_row, j, image, vecs, cb, first):
        o_at = [e.add(o_row, e.mul(j, n8), image, o * ochan) for o in range(_OUT_BLOCK)]
        if first:  # the first block of channels starts from the bias
            init = [e.broadcast(bias, e.add(e.mul(ob, _OUT_BLOCK), o)) for o in range(_OUT_BLOCK)]
            accs = [init[o] for o in range(_OUT_BLOCK) for _ in range(vecs)]
        else:  # a later block's sums start from zero and are added to the output at the end
            accs = [e.zero] * (_OUT_BLOCK * vecs)
        x_at = e.add(e.mul(i, sh * xr), e.mul(j, sw * pos), image)
        w_at = e.mul(ob, c * wc)
        c_end = b.select(b.icmp_signed("<", e.add(cb, _CHANNEL_BLOCK), e.const(c)),
                         e.add(cb, _CHANNEL_BLOCK), e.const(c))  # fmt: skip

        def channel(ci, accs):
            def kernel_row(p, accs):
                accs = list(accs)
                xp = e.add(x_at, e.mul(ci, xc), e.mul(p, dh * xr))
                wq = e.add(w_at, e.mul(ci, wc), e.mul(p, kw * _OUT_BLOCK))
                for q in range(kw):
                    xs = [e.load(x, e.add(xp, q * dw * pos + v * vec)) for v in range(vecs)]
                    for o in range(_OUT_BLOCK):
                        wv = e.broadcast(w, e.add(wq, q * _OUT_BLOCK + o))
                        for v in range(vecs):
                            accs[o * vecs + v] = e.fma(wv, xs[v], accs[o * vecs + v])
                return accs

            if kh * kw > _UNROLLED_OFFSETS:
                return e.loop(0, kh, kernel_row, accs)
            for p in range(kh):  # unrolled: every offset a constant
                accs = kernel_row(e.const(p), accs)
            return accs

        accs = e.loop(cb, c_end, channel, accs)
        for o in range(_OUT_BLOCK):
            for v in range(vecs):
                at = e.add(o_at[o], v * vec)
                total = accs[o * vecs + v] if first else b.fadd(e.load(out, at), accs[o * vecs + v])
                e.store(total, out, at)

    def row(i, _):
        # For one block of channels and one vector of images, every output channel block
        # sweeps the row: its inputs (a few kB) stay in L1.
        def block(cb, first):
            def sweep(image, vecs):
                def channels(ob, _):
                    o_row = e.add(e.mul(ob, _OUT_BLOCK * ochan), e.mul(i, orow))
                    e.loop(0, ow, lambda j, _: tile(ob, i, o_row, j, image, vecs, cb, first))

                e.loop(0, blocks, channels)

            e.loop(0, full, lambda nb, _: sweep(e.mul(nb, image_vectors * vec), image_vectors))
            if rest:
                sweep(e.const(full * image_vectors * vec), rest)

        block(e.const(0), True)
        e.loop(_CHANNEL_BLOCK, c, lambda cb, _: block(cb, False), step=_CHANNEL_BLOCK)

    e.loop(t0, t1, row)
    b.ret_void()
    return mod


def weight_grad_ir(width, xshape, wshape, out_hw, n8, stride, dilation, outs):
    """weight_grad(x, dy, dw, t0, t1) for tiles t = (o // outs) * C + c in [t0, t1)."""
    mod, fn, e = compiler.function("weight_grad", 3, width)
    vec = width.vec
    x, dy, dw, t0, t1 = fn.args
    o, c, kh, kw = wshape
    _, hp, wp, pos = xshape
    oh, ow = out_hw
    (sh, sw), (dh, ddw) = stride, dilation
    xc, xr = hp * wp * pos, wp * pos
    yrow, ychan = ow * n8, oh * ow * n8
    cols = min(kw, _accumulators(width) // 2)
    col_blocks = [list(range(q, min(q + cols, kw))) for q in range(0, kw, cols)]
    b = e.b
    # partial sums of one tile across output rows: outs x kh x kw vectors on the stack
    sums = b.alloca(e.ir.ArrayType(e.vec, outs * kh * kw))
    sums_f = b.bitcast(sums, e.f32.as_pointer())

    def tile(t, _):
        ob = b.sdiv(t, e.const(c))
        ci = b.srem(t, e.const(c))
        for k in range(outs * kh * kw):
            e.store(e.zero, sums_f, e.const(k * vec))
        x_c = e.mul(ci, xc)
        y_o = e.mul(ob, outs * ychan)

        def out_row(i, _):
            def kernel_row(p, _):
                x_row = e.add(x_c, e.mul(i, sh * xr), e.mul(p, dh * xr))
                y_row = e.add(y_o, e.mul(i, yrow))
                for qs in col_blocks:
                    slots = [(r, q) for r in range(outs) for q in qs]

                    def slot_at(r, q, p=p):
                        return e.add(e.mul(p, kw * vec), (r * kh * kw + q) * vec)

                    # each row's sums start from zero and are added to the tile's totals
                    # after the row: chains of OW x N/vec products, not OH times as long
                    accs = [e.zero] * len(slots)

                    def step(j, accs, qs=qs, slots=slots):
                        def lanes(nb, accs):
                            at = e.mul(nb, vec)
                            ys = [e.load(dy, e.add(y_row, e.mul(j, n8), at, r * ychan))
                                  for r in range(outs)]  # fmt: skip
                            xs = {q: e.load(x, e.add(x_row, e.mul(j, sw * pos), at, q * ddw * pos))
                                  for q in qs}  # fmt: skip
                            return [e.fma(ys[r], xs[q], a) for (r, q), a in zip(slots, accs)]

                        return e.loop(0, n8 // vec, lanes, accs)

                    accs = e.loop(0, ow, step, accs)
                    for (r, q), a in zip(slots, accs):
                        total = b.fadd(e.load(sums_f, slot_at(r, q)), a)
                        e.store(total, sums_f, slot_at(r, q))

            e.loop(0, kh, kernel_row)

        e.loop(0, oh, out_row)
        for r in range(outs):
            for p in range(kh):
                for q in range(kw):
                    v = e.load(sums_f, e.const((r * kh * kw + p * kw + q) * vec))
                    at = e.add(e.mul(ob, outs * c * kh * kw), e.mul(ci, kh * kw),
                               r * c * kh * kw + p * kw + q)  # fmt: skip
                    b.store(e.lane_sum(v), b.gep(dw, [at]))

    e.loop(t0, t1, tile)
    b.ret_void()
    return mod
