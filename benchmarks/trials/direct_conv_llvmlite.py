"""Trial: a direct stride-1 convolution (float32) JIT-compiled with llvmlite, against the
OpenBLAS products deepgrad uses. Not part of deepgrad; benchmarks/README.md reports the result.

    pip install llvmlite && python benchmarks/trials/direct_conv_llvmlite.py

Layout as in deepgrad's convolutions, batch innermost: input (C, Hp, Wp, N) already padded,
output (O, OH, OW, N). One register tile is 4 output channels x 16 images (8 vectors of 8
floats, kept in registers across the whole reduction); each step of the reduction over
(channel, kernel row, kernel column) loads 2 input vectors and broadcasts 4 weights into 8
FMAs. The two cores split the output channels (ctypes releases the GIL). ``POSITION_PAD``
floats of padding after each position's N images spread the tile's loads over more L1 sets
(with N = 128 the rows are 512 B apart and all land in 8 of the 64 sets).
"""

from __future__ import annotations

import ctypes
import time
from concurrent.futures import ThreadPoolExecutor

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir

OB, NV = 4, 2  # output channels x 8-float vectors per register tile
POSITION_PAD = 16

F32, I64 = ir.FloatType(), ir.IntType(64)
V8 = ir.VectorType(F32, 8)


def counted_loop(b, start, end, body, name):
    """Emit ``for v in range(start, end): body(b, v)``; leaves ``b`` after the loop."""
    pre = b.block
    head = b.append_basic_block(name + "_head")
    inner = b.append_basic_block(name + "_body")
    after = b.append_basic_block(name + "_end")
    b.branch(head)
    b.position_at_end(head)
    v = b.phi(I64, name)
    v.add_incoming(start, pre)
    b.cbranch(b.icmp_signed("<", v, end), inner, after)
    b.position_at_end(inner)
    body(b, v)
    v.add_incoming(b.add(v, ir.Constant(I64, 1)), b.block)
    b.branch(head)
    b.position_at_end(after)


def build_module():
    """conv_fwd(x, w, out, offsets, K, x_row, x_pos, N, OH, OW, ob_begin, ob_end)."""
    mod = ir.Module(name="direct_conv")
    mod.triple = llvm.get_process_triple()
    fp = F32.as_pointer()
    fnty = ir.FunctionType(ir.VoidType(), [fp, fp, fp, I64.as_pointer()] + [I64] * 8)
    fn = ir.Function(mod, fnty, name="conv_fwd")
    x, w, out, offs, k_len, x_row, x_pos, n, oh, ow, ob0, ob1 = fn.args
    for a in (x, w, out):
        a.add_attribute("noalias")
    fma = ir.Function(mod, ir.FunctionType(V8, [V8, V8, V8]), name="llvm.fma.v8f32")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    c = lambda v: ir.Constant(I64, v)  # noqa: E731
    out_row = b.mul(ow, n)
    out_chan = b.mul(oh, out_row)
    w_block = b.mul(k_len, c(OB))
    n_tiles = b.udiv(n, c(8 * NV))
    splat = ir.Constant(ir.VectorType(ir.IntType(32), 8), [0] * 8)

    def tile(b, ob, i, nb, j):
        x_base = b.add(b.add(b.mul(i, x_row), b.mul(j, x_pos)), b.mul(nb, c(8 * NV)))
        w_base = b.mul(ob, w_block)
        pre = b.block
        head = b.append_basic_block("k_head")
        inner = b.append_basic_block("k_body")
        after = b.append_basic_block("k_end")
        b.branch(head)
        b.position_at_end(head)
        k = b.phi(I64, "k")
        k.add_incoming(c(0), pre)
        accs = [b.phi(V8, f"acc{t}") for t in range(OB * NV)]
        for a in accs:
            a.add_incoming(ir.Constant(V8, [0.0] * 8), pre)
        b.cbranch(b.icmp_signed("<", k, k_len), inner, after)
        b.position_at_end(inner)
        xo = b.add(x_base, b.load(b.gep(offs, [k])))
        xv = [
            b.load(b.bitcast(b.gep(x, [b.add(xo, c(8 * v))]), V8.as_pointer()), align=4)
            for v in range(NV)
        ]
        wo = b.add(w_base, b.mul(k, c(OB)))
        new = []
        for o in range(OB):
            ws = b.load(b.gep(w, [b.add(wo, c(o))]))
            wv = b.insert_element(ir.Constant(V8, ir.Undefined), ws, ir.Constant(ir.IntType(32), 0))
            wv = b.shuffle_vector(wv, ir.Constant(V8, ir.Undefined), splat)
            new += [b.call(fma, [wv, xv[v], accs[o * NV + v]]) for v in range(NV)]
        k.add_incoming(b.add(k, c(1)), b.block)
        for a, v in zip(accs, new):
            a.add_incoming(v, b.block)
        b.branch(head)
        b.position_at_end(after)
        o_base = b.add(b.add(b.mul(i, out_row), b.mul(j, n)), b.mul(nb, c(8 * NV)))
        for o in range(OB):
            row = b.add(o_base, b.mul(b.add(b.mul(ob, c(OB)), c(o)), out_chan))
            for v in range(NV):
                ptr = b.bitcast(b.gep(out, [b.add(row, c(8 * v))]), V8.as_pointer())
                b.store(accs[o * NV + v], ptr, align=4)

    counted_loop(
        b,
        ob0,
        ob1,
        lambda b, ob: counted_loop(
            b,
            c(0),
            oh,
            lambda b, i: counted_loop(
                b,
                c(0),
                n_tiles,
                lambda b, nb: counted_loop(b, c(0), ow, lambda b, j: tile(b, ob, i, nb, j), "j"),
                "nb",
            ),
            "i",
        ),
        "ob",
    )
    b.ret_void()
    return mod


def compile_kernel():
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(str(build_module()))
    module.verify()
    target = llvm.Target.from_default_triple()
    machine = target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3
    )
    passes = llvm.create_pass_builder(machine, llvm.create_pipeline_tuning_options(speed_level=3))
    passes.getModulePassManager().run(module, passes)
    engine = llvm.create_mcjit_compiler(module, machine)
    engine.finalize_object()
    proto = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 4, *[ctypes.c_int64] * 8)
    return engine, proto(engine.get_function_address("conv_fwd"))


def direct_conv(kernel, pool, xpad, weight, out, threads=2):
    """out (O, OH, OW, N) = the stride-1 cross-correlation of xpad (C, Hp, Wp, N+pad)."""
    c, hp, wp, pos = xpad.shape
    o, _, kh, kw = weight.shape
    n = out.shape[3]
    wb = np.ascontiguousarray(weight.reshape(o // OB, OB, c, kh, kw).transpose(0, 2, 3, 4, 1))
    cc, pp, qq = np.meshgrid(np.arange(c), np.arange(kh), np.arange(kw), indexing="ij")
    offs = np.ascontiguousarray((cc * hp * wp * pos + pp * wp * pos + qq * pos).ravel())
    blocks = o // OB

    def part(b0, b1):
        kernel(xpad.ctypes.data, wb.ctypes.data, out.ctypes.data, offs.ctypes.data,
               c * kh * kw, wp * pos, pos, n, out.shape[1], out.shape[2], b0, b1)  # fmt: skip

    if threads == 1:
        part(0, blocks)
    else:
        half = pool.submit(part, 0, blocks // 2)
        part(blocks // 2, blocks)
        half.result()


def median_ms(fn, repeats=15):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def main():
    _engine, kernel = compile_kernel()
    pool = ThreadPoolExecutor(1)
    rng = np.random.default_rng(0)
    for c, o, h, n in [(16, 32, 14, 128), (1, 16, 28, 128), (32, 16, 14, 128)]:
        xpad = np.zeros((c, h + 4, h + 4, n + POSITION_PAD), np.float32)
        xpad[:, 2:-2, 2:-2, :n] = rng.standard_normal((c, h, h, n))
        weight = rng.standard_normal((o, c, 5, 5)).astype(np.float32)
        out = np.empty((o, h, h, n), np.float32)
        win = np.lib.stride_tricks.sliding_window_view(xpad[..., :n], (5, 5), axis=(1, 2))
        ref = np.einsum("ocpq,cijnpq->oijn", weight.astype(np.float64), win, optimize=True)
        flops = 2 * o * c * 25 * h * h * n
        for threads in (1, 2):
            direct_conv(kernel, pool, xpad, weight, out, threads)
            err = np.abs(out - ref).max() / np.abs(ref).max()
            ms = median_ms(lambda: direct_conv(kernel, pool, xpad, weight, out, threads))  # noqa: B023
            print(
                f"C={c:2d} O={o:2d} {h}x{h} N={n} threads={threads}: {ms:6.2f} ms "
                f"{flops / ms / 1e6:5.0f} GFLOP/s  max rel. error {err:.1e}"
            )


if __name__ == "__main__":
    main()
