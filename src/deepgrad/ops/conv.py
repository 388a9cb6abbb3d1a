"""Convolution and pooling primitives, forward and backward side by side.

Convolution (really cross-correlation, as in every framework)::

    y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * xpad[n, c, i*sh + p*dh, j*sw + q*dw]

is computed as matrix products over "column matrices" built from strided views of the
zero-padded input (views cost nothing; only the copy into the column matrix does):

* **im2col** (any stride): one row per (channel, kernel offset p, q), one column per output
  position. Then y = W (O, C*kh*kw) @ cols, dW = dY @ cols^T, and for the input gradient
  dcols = W^T @ dY is added back into the padded input, one strided slice-add per kernel
  offset ("col2im"; kh*kw adds, never a loop over pixels or images).
* **row-wise** (vertical stride 1): one row per (channel, kernel column q), one column per
  (input row, output column). Kernel row p needs the same matrix shifted down by p*dh input
  rows, which is a column slice of it, so there is no copy per p:
  y = sum_p W_p (O, C*kw) @ cols[p-shifted]. That copies kh times less than im2col for kh
  smaller products, which pays off once C*kw is large enough (``_ROWWISE_MIN``).
* The input gradient of a stride-1 convolution is itself a stride-1 convolution (of dY with
  the kernel flipped and its channel axes swapped), so it reuses the forward code instead of
  col2im.

Groups split C and O into ``groups`` blocks and turn each product into a batched one.

On a CPU these copies cost about as much as the products, so the data layout is chosen for them:

* **Batch innermost.** The padded input is laid out (C, H, W, N): the batch index varies
  fastest. Every window view then moves runs of at least N contiguous numbers (OW*N when the
  stride is 1), and the products come out as (O, OH, OW, N) with no transposition. The output
  tensor has PyTorch's shape (N, O, OH, OW) and values, but keeps that memory order (like
  PyTorch's ``channels_last``, with the batch last instead); elementwise ops and pooling
  preserve it, so the next convolution reads it without a transposing copy.
* **Chunks and reused buffers.** Output rows are processed in chunks of about
  ``_CHUNK_BYTES`` of columns, built in per-thread work buffers that are reused from call to
  call (``scratch``). When the columns fit in one chunk, forward builds them in an array of
  its own and keeps it for the weight gradient, which saves
  building them again (about 10% of a step of the course CNN); larger inputs have their
  columns rebuilt chunk by chunk in backward, so memory stays bounded.

float32 convolutions run compiled kernels instead where they can (``deepgrad.kernels``,
reached through ``kernels.conv2d``: direct loops with nothing to copy); the NumPy code here
serves every other case, and is the reference those kernels are tested against. Pooling is
in ``pool.py``.
"""

from __future__ import annotations

import threading

from deepgrad import kernels
from deepgrad.autograd.op import Op
from deepgrad.backend import array_module

#: Bytes of one chunk's column matrix. Chunks keep the work buffers bounded (and reused) and
#: let each product start on data just copied; too small a chunk makes many small, slower
#: products and (row-wise) re-copies the kernel's halo rows too often. On the Fashion-MNIST
#: CNN, 8-32 MiB are within a few percent, 24 MiB the fastest.
_CHUNK_BYTES = 24 << 20


_scratch = threading.local()


def scratch(xp, slot: str, size: int, dtype):
    """A reusable flat work array of at least ``size`` elements, one per ``slot`` and thread.

    Column matrices and padded copies never leave the op that builds them, so one buffer per
    thread serves every call, instead of a fresh multi-megabyte array whose pages the operating
    system must map (a page fault each) on first touch.
    """
    key = (slot, xp.dtype(dtype).str, xp.__name__)
    buf = getattr(_scratch, "buffers", None)
    if buf is None:
        buf = _scratch.buffers = {}
    arr = buf.get(key)
    if arr is None or arr.size < size:
        arr = buf[key] = xp.empty(size, dtype=dtype)
    return arr[:size]


def batch_last(x):
    """The (C, H, W, N) view of an (N, C, H, W) array: contiguous for our conv outputs."""
    return x.transpose(1, 2, 3, 0)


class _ConvGeometry:
    """Every size and stride the convolution needs, computed once per call, and the two ways
    of building its column matrices (see the module docstring)."""

    def __init__(self, x_shape, w_shape, stride, padding, dilation, groups, itemsize, rows=True):
        self.args = (x_shape, w_shape, stride, padding, dilation, groups, itemsize)
        n, c, h, w = x_shape
        o, cg, kh, kw = w_shape
        sh, sw = stride
        pt, pb, pl, pr = padding
        dh, dw = dilation
        self.n, self.c, self.h, self.w, self.o = n, c, h, w, o
        self.kh, self.kw, self.sh, self.sw, self.dh, self.dw = kh, kw, sh, sw, dh, dw
        self.padding, self.dilation, self.groups = padding, dilation, groups
        self.pt, self.pl = pt, pl
        self.hp, self.wp = h + pt + pb, w + pl + pr
        self.oh = (self.hp - dh * (kh - 1) - 1) // sh + 1
        self.ow = (self.wp - dw * (kw - 1) - 1) // sw + 1
        self.img = self.hp * self.wp * n  # elements of one padded channel
        self.row = self.ow * n  # columns per output row
        # Row-wise columns need consecutive output rows to read consecutive input rows.
        # (a kernel one column wide with stride 1 needs no copy at all: always worth it)
        self.rowwise = rows and sh == 1 and (cg * kw >= _ROWWISE_MIN or (kw == 1 and sw == 1))
        if self.rowwise:
            self.k = cg * kw  # rows of a row-wise column matrix, per group
            self.halo = dh * (kh - 1)  # extra input rows a chunk of output rows reads
            per_row = c * kw * self.row * itemsize
        else:
            self.k = cg * kh * kw  # rows of an im2col matrix, per group
            self.halo = 0
            per_row = c * kh * kw * self.row * itemsize
        fit = _CHUNK_BYTES // max(1, per_row) - self.halo
        # at least twice the halo, so re-copying the halo rows costs at most half as much again
        self.rows = max(1, 2 * self.halo, min(self.oh, fit))  # output rows per chunk
        self.rows = min(self.rows, self.oh)

    def chunks(self):
        """(first, end) output rows of each chunk."""
        return [(r, min(r + self.rows, self.oh)) for r in range(0, self.oh, self.rows)]

    def padded(self, xp, slot, dtype):
        """A zeroed work buffer (C, Hp, Wp, N) from the scratch ``slot``."""
        buf = scratch(xp, slot, self.c * self.img, dtype).reshape(self.c, self.hp, self.wp, self.n)
        buf[...] = 0
        return buf

    def pad(self, x):
        """x (N, C, H, W) -> zero-padded (C, Hp, Wp, N) buffer, only ever read: a reused work
        buffer, or x itself when there is no padding and x is stored batch-innermost."""
        view = batch_last(x)
        if not any(self.padding) and view.flags.c_contiguous:
            return view
        buf = self.padded(array_module(x), "pad", x.dtype)
        self.interior(buf)[...] = view
        return buf

    def interior(self, buf):
        """The (C, H, W, N) view of the real pixels inside a padded buffer."""
        return buf[:, self.pt : self.pt + self.h, self.pl : self.pl + self.w]

    @property
    def columns_are_views(self) -> bool:
        """True when the column matrix is the padded input itself (one kernel column reading
        every input column), so there is nothing to build."""
        return self.rowwise and self.kw == 1 and self.ow == self.wp

    def columns(self, buf, r0, r1, keep=False):
        """The column matrix (groups, k, m) of output rows r0 .. r1-1: in the scratch buffer,
        or with ``keep`` in a new array that later calls leave alone."""
        xp = array_module(buf)
        n_rows = r1 - r0 + self.halo
        if self.columns_are_views:
            return buf[:, r0 : r0 + n_rows].reshape(self.groups, self.k, n_rows * self.row)
        size = self.groups * self.k * n_rows * self.row
        cols = xp.empty(size, buf.dtype) if keep else scratch(xp, "cols", size, buf.dtype)
        if self.rowwise:
            self._row_columns(buf, r0, n_rows, cols)
        else:
            self._im2col(buf, r0, r1, cols)
        return cols.reshape(self.groups, self.k, n_rows * self.row)

    # ---- im2col: one column per output position, one row per (channel, kernel offset)
    def windows(self, buf):
        """View (C, kh, kw, OH, OW, N) of a padded buffer: [c, p, q] holds the pixels that
        kernel offset (p, q) multiplies, at every output position. No copy, just strides."""
        xp = array_module(buf)
        sc, sy, sx, sn = buf.strides
        shape = (self.c, self.kh, self.kw, self.oh, self.ow, self.n)
        strides = (sc, self.dh * sy, self.dw * sx, self.sh * sy, self.sw * sx, sn)
        return xp.lib.stride_tricks.as_strided(buf, shape, strides, writeable=True)

    def _im2col(self, buf, r0, r1, cols):
        win = self.windows(buf)
        blocks = cols.reshape(self.c, self.kh, self.kw, r1 - r0, self.ow, self.n)
        for p in range(self.kh):
            for q in range(self.kw):
                blocks[:, p, q] = win[:, p, q, r0:r1]

    def col2im(self, cols, dbuf, r0, r1):
        """Add im2col columns (groups, k, (r1-r0)*OW*N) back into the padded gradient buffer.
        One slice-add per kernel offset: windows of different offsets overlap, so they cannot
        be added in a single operation."""
        dwin = self.windows(dbuf)
        blocks = cols.reshape(self.c, self.kh, self.kw, r1 - r0, self.ow, self.n)
        for p in range(self.kh):
            for q in range(self.kw):
                dwin[:, p, q, r0:r1] += blocks[:, p, q]

    # ---- row-wise: one column per (input row, output column), one row per (channel, kernel
    # column). Kernel row p then reads the same matrix shifted by p*dh rows: a column slice.
    def _row_columns(self, buf, r0, n_rows, cols):
        blocks = cols.reshape(self.c, self.kw, n_rows, self.ow, self.n)
        span = self.sw * (self.ow - 1) + 1
        for q in range(self.kw):
            c0 = q * self.dw
            blocks[:, q] = buf[:, r0 : r0 + n_rows, c0 : c0 + span : self.sw]

    def row_slice(self, cols, p, count):
        """Kernel row p's part of a row-wise column matrix: ``count`` output rows."""
        a = p * self.dh * self.row
        return cols[:, :, a : a + count * self.row]

    def kernel_rows(self, weight):
        """Weight (O, Cg, kh, kw) as one matrix per group with the kernel rows stacked,
        (groups, kh*O/groups, Cg*kw): row p*O/groups + o holds w[o, :, p, :], matching the
        row-wise column matrix's rows (channel, kernel column)."""
        g, og = self.groups, self.o // self.groups
        w = weight.reshape(g, og, -1, self.kh, self.kw).transpose(0, 3, 1, 2, 4)
        return array_module(weight).ascontiguousarray(w).reshape(g, self.kh * og, self.k)


#: Row-wise columns need about kw times less copying than im2col but split each product into
#: kh smaller ones (plus additions). They win once those products have enough rows
#: (channels/group * kw); measured on the Fashion-MNIST CNN (80 rows: faster; 5 rows: slower).
_ROWWISE_MIN = 32


def _conv_forward(geo, buf, weight, bias, out, keep=False):
    """out (groups, O/groups, OH*OW*N) = W @ columns (+ bias), chunk by chunk. With ``keep``,
    returns the column matrix when it fits in one chunk (for ``_weight_grad``), else None."""
    xp = array_module(buf)
    chunks = geo.chunks()
    keep = keep and len(chunks) == 1 and not geo.columns_are_views
    kept = None
    g, o = geo.groups, geo.o
    b3 = None if bias is None else bias.reshape(g, o // g, 1)
    if geo.rowwise:
        # All kernel rows in one product (kh times more output rows: a far better GEMM shape
        # than kh thin ones), then each row's block is added shifted by its p*dh input rows.
        og = o // g
        wrows = geo.kernel_rows(weight)
        n_max = (geo.rows + geo.halo) * geo.row
        tmp = scratch(xp, "part", g * geo.kh * og * n_max, buf.dtype)
    else:
        w3 = weight.reshape(g, o // g, geo.k)
    for r0, r1 in chunks:
        cols = geo.columns(buf, r0, r1, keep=keep)
        if keep:
            kept = cols
        chunk = out[:, :, r0 * geo.row : r1 * geo.row]
        if geo.rowwise and geo.kh > 1:  # y = sum over p of W_p @ (columns shifted by p rows)
            z = tmp[: g * geo.kh * og * cols.shape[2]].reshape(g, geo.kh * og, cols.shape[2])
            xp.matmul(wrows, cols, out=z)
            blocks = [geo.row_slice(z[:, p * og : (p + 1) * og], p, r1 - r0) for p in range(geo.kh)]
            xp.add(blocks[0], blocks[1], out=chunk)
            for blk in blocks[2:]:
                chunk += blk
        elif geo.rowwise:  # one kernel row: no halo, the product is the chunk itself
            xp.matmul(wrows, cols, out=chunk)
        else:
            xp.matmul(w3, cols, out=chunk)
        if b3 is not None:
            chunk += b3  # while the chunk is still in cache
    return kept


def _weight_grad(geo, buf, g3, kept=None):
    """dW = dY @ columns^T, summed over chunks; returned as (O, Cg, kh, kw). ``kept`` is the
    forward pass's column matrix when it kept one (then ``buf`` is not read).

    Computed transposed, dW^T = columns @ dY^T: with few output channels, the product then
    streams the long reduction through OpenBLAS's faster path (about 25% faster here)."""
    xp = array_module(g3)
    g, o, kh, kw = geo.groups, geo.o, geo.kh, geo.kw
    cg, og = geo.c // g, o // g
    blocks = kh if geo.rowwise else 1  # row-wise: one product per kernel row
    gw = xp.zeros((blocks, g, geo.k, og), dtype=g3.dtype)
    part = xp.empty(gw.shape[1:], dtype=g3.dtype)
    for r0, r1 in geo.chunks():
        cols = kept if kept is not None else geo.columns(buf, r0, r1)
        gchunk_t = g3[:, :, r0 * geo.row : r1 * geo.row].transpose(0, 2, 1)
        for p in range(blocks):
            src = geo.row_slice(cols, p, r1 - r0) if geo.rowwise else cols
            xp.matmul(src, gchunk_t, out=part)
            gw[p] += part
    if geo.rowwise:  # (kh, g, Cg, kw, O/g) -> (O, Cg, kh, kw)
        gw = gw.reshape(kh, g, cg, kw, og).transpose(1, 4, 2, 0, 3)
    else:  # (1, g, Cg, kh, kw, O/g) -> (O, Cg, kh, kw)
        gw = gw.reshape(g, cg, kh, kw, og).transpose(0, 4, 1, 2, 3)
    return xp.ascontiguousarray(gw).reshape(o, cg, kh, kw)


def _transposed_conv(geo, weight):
    """dx for stride 1 is the convolution of dY, padded by d*(k-1) - pad, with the kernel
    flipped in space and with input and output channels swapped (the "transposed convolution"):

        dx[n, c, h, w] = sum_{o, p, q} w[o, c, p, q] dY[n, o, h + pt - p dh, w + pl - q dw]

    Returns (that padding, the flipped kernel (C, O/groups, kh, kw)), or None when the stride
    is not 1, the padding exceeds d*(k-1), or the weight holds NaN or an infinity (then col2im
    handles it).

    Why the last: this sum also multiplies the zeros that pad dY by every weight, and 0 * inf
    is NaN. PyTorch (col2im: dcols = W^T dY, then scattered) only ever multiplies weights by
    real gradients, so there an infinite weight gives NaN only where it meets a zero of dY.
    Checking the weight costs a pass over a few thousand numbers; finite weights add exact
    zeros, which change nothing."""
    kh, kw, dh, dw = geo.kh, geo.kw, geo.dh, geo.dw
    pt, pb, pl, pr = geo.padding
    pads = (dh * (kh - 1) - pt, dh * (kh - 1) - pb, dw * (kw - 1) - pl, dw * (kw - 1) - pr)
    xp = array_module(weight)
    if geo.sh != 1 or geo.sw != 1 or min(pads) < 0 or not xp.isfinite(weight).all():
        return None
    g, o = geo.groups, geo.o
    cg = geo.c // g
    flipped = weight.reshape(g, o // g, cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return pads, xp.ascontiguousarray(flipped).reshape(geo.c, o // g, kh, kw)


def _input_grad_by_conv(geo, weight, grad):
    """dx for stride 1 as a forward convolution (see ``_transposed_conv``), or None."""
    transposed = _transposed_conv(geo, weight)
    if transposed is None:
        return None
    pads, flipped = transposed
    xp = array_module(grad)
    g, cg = geo.groups, geo.c // geo.groups
    tgeo = _ConvGeometry(grad.shape, flipped.shape, (1, 1), pads, geo.dilation, g, grad.itemsize)
    gx = xp.empty((g, cg, tgeo.oh * tgeo.row), dtype=grad.dtype)
    _conv_forward(tgeo, tgeo.pad(grad), flipped, None, gx)
    return gx.reshape(geo.c, geo.h, geo.w, geo.n).transpose(3, 0, 1, 2)


def _input_grad_by_kernels(geo, weight, gq):
    """dx for stride 1 with the compiled forward kernel (see ``_transposed_conv``), from dY
    stored (O, OH, OW, N); None when it does not apply."""
    transposed = _transposed_conv(geo, weight)
    if transposed is None:
        return None
    pads, flipped = transposed
    gx = kernels.conv2d_input_grad(gq, flipped, pads, geo.n, (geo.h, geo.w), geo.dilation)
    return gx.transpose(3, 0, 1, 2)


def _input_grad_by_col2im(geo, weight, g3):
    """dx by scattering dcols = W^T @ dY back into the padded input (any stride)."""
    xp = array_module(g3)
    g, o = geo.groups, geo.o
    im2col = _ConvGeometry(*geo.args, rows=False) if geo.rowwise else geo
    dbuf = geo.padded(xp, "dpad", g3.dtype)
    wt = weight.reshape(g, o // g, im2col.k).transpose(0, 2, 1)
    dcols = scratch(xp, "cols", g * im2col.k * im2col.rows * geo.row, g3.dtype)
    for r0, r1 in im2col.chunks():
        d = dcols[: g * im2col.k * (r1 - r0) * geo.row].reshape(g, im2col.k, -1)
        xp.matmul(wt, g3[:, :, r0 * geo.row : r1 * geo.row], out=d)
        im2col.col2im(d, dbuf, r0, r1)
    gx = xp.empty((geo.c, geo.h, geo.w, geo.n), dtype=g3.dtype)
    gx[...] = geo.interior(dbuf)
    return gx.transpose(3, 0, 1, 2)


class Conv2d(Op):
    """2-D convolution of x (N, C, H, W) with w (O, C/groups, kh, kw) and an optional bias (O,).

    ``padding`` is (top, bottom, left, right); ``stride`` and ``dilation`` are pairs. The
    output is stored batch-innermost (see the module docstring). float32 convolutions without
    groups run the compiled direct kernels (``kernels.conv2d``) where they are available;
    every other case, and every case with ``DEEPGRAD_JIT=0``, the NumPy code above.
    """

    def forward(ctx, x, weight, bias=None, *, stride, padding, dilation, groups):
        xp = array_module(x)
        geo = _ConvGeometry(x.shape, weight.shape, stride, padding, dilation, groups, x.itemsize)
        ctx.geo = geo
        need = ctx.needs_input_grad
        fast = kernels.conv2d(x, weight, bias, stride, padding, dilation, groups)
        ctx.jit = fast is not None
        if ctx.jit:
            out, xbuf = fast
            if need:
                ctx.saved = (xbuf if need[1] else None, weight if need[0] else None, None)
            return out
        out = xp.empty((groups, geo.o // groups, geo.oh * geo.row), dtype=x.dtype)
        keep = bool(need) and need[1]  # only dW reads the columns again
        kept = _conv_forward(geo, geo.pad(x), weight, bias, out, keep=keep)
        if need:
            # keep only what backward reads: for dW the column matrix (saves building it
            # again) or else the input (padded again there), the weight for dx
            x_for_dw = x if need[1] and kept is None else None
            ctx.saved = (x_for_dw, weight if need[0] else None, kept)
        return out.reshape(geo.o, geo.oh, geo.ow, geo.n).transpose(3, 0, 1, 2)

    def backward(ctx, grad):
        geo = ctx.geo
        x, weight, kept = ctx.saved  # with the kernels, x is their padded input
        need = ctx.needs_input_grad
        xp = array_module(grad)
        g, o = geo.groups, geo.o
        gq = xp.ascontiguousarray(batch_last(grad))  # (O, OH, OW, N), a no-op for our layout
        g3 = gq.reshape(g, o // g, geo.oh * geo.row)
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = gq.reshape(o, -1).sum(axis=1)
        if need[1]:
            if ctx.jit:
                hw, stride = (geo.kh, geo.kw), (geo.sh, geo.sw)
                gw = kernels.conv2d_weight_grad(x, gq, hw, stride, geo.dilation)
            else:
                gw = _weight_grad(geo, None if kept is not None else geo.pad(x), g3, kept)
        if need[0]:
            if ctx.jit:
                gx = _input_grad_by_kernels(geo, weight, gq)
            else:
                gx = _input_grad_by_conv(geo, weight, gq.transpose(3, 0, 1, 2))
            if gx is None:
                gx = _input_grad_by_col2im(geo, weight, g3)
        return gx, gw, gb
