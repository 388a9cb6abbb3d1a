"""GPU benchmarks: deepgrad on CuPy against PyTorch CUDA eager, on the same GPU, in one run.

W1 is an epoch of the course MLP (784-512-256-10), W3 an epoch of the course CNN (two 5x5
convolutions with max pooling), each at batch 128 and at batch 1024, trained with SGD (momentum
0.9) and cross-entropy, with the same initial weights, data and batch order in both frameworks.
The data sit on the GPU before timing (each batch is gathered there, as a GPU data loader
would); an epoch is timed from its first step to a ``synchronize`` after its last. After one
warm-up epoch each, the frameworks alternate for ``--rounds`` rounds; the table gives medians and
the ratio deepgrad / PyTorch (below 1: deepgrad faster).

Fashion-MNIST is used when it is found (DEEPGRAD_DATA or /usr/share/datasets/fashion-mnist);
otherwise random images of the same shape (a GPU machine may have no copy): timings do not depend
on the values. ``--profile`` adds where deepgrad's step time goes (forward, backward, optimiser
step, each to a synchronize) and the Python functions that take it (cProfile).

Run by ``benchmarks/gpu_check.sh`` and by ``make bench`` when a GPU is present. Never in
``make test``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

GOALS = {128: 1.5, 1024: 1.2}


def data(n=60000):
    root = Path(os.environ.get("DEEPGRAD_DATA", "/usr/share/datasets/fashion-mnist"))
    if (root / "train-images-idx3-ubyte.gz").exists():
        from run import fashion_mnist

        x, y, _, _ = fashion_mnist()
        return x[:n], y[:n], "Fashion-MNIST training set"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return x, y, "random images of Fashion-MNIST's shape (no copy of the data set found)"


def twin_models(kind):
    import torch
    from run import build

    import deepgrad

    torch.manual_seed(0)
    tmodel = build(torch, kind)
    dmodel = build(deepgrad, kind)
    dmodel.load_state_dict({k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()})
    return dmodel.to("cuda"), tmodel.to("cuda")


class Epoch:
    """One framework's model, optimiser and GPU-resident data for one workload."""

    def __init__(self, lib, model, x, y, order, batch_size):
        self.lib, self.model, self.batch_size = lib, model, batch_size
        self.opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        self.loss_fn = lib.nn.CrossEntropyLoss()
        self.x, self.y = x, y
        n = len(order) // batch_size
        self.batches = [order[b * batch_size : (b + 1) * batch_size] for b in range(n)]

    def sync(self):
        self.lib.cuda.synchronize()

    def step(self, sel):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x[sel]), self.y[sel])
        loss.backward()
        self.opt.step()
        return loss

    def __call__(self, max_batches=None):
        self.sync()
        start = time.perf_counter()
        for sel in self.batches[:max_batches]:
            loss = self.step(sel)
        self.sync()
        seconds = time.perf_counter() - start
        self.last_loss = float(loss.item())
        return seconds

    def phases(self, steps=50):
        """Seconds per step in forward, backward and the optimiser step (synchronized)."""
        t = {"forward": 0.0, "backward": 0.0, "step": 0.0}
        for sel in self.batches[:steps]:
            self.sync()
            t0 = time.perf_counter()
            self.opt.zero_grad()
            loss = self.loss_fn(self.model(self.x[sel]), self.y[sel])
            self.sync()
            t1 = time.perf_counter()
            loss.backward()
            self.sync()
            t2 = time.perf_counter()
            self.opt.step()
            self.sync()
            t3 = time.perf_counter()
            t["forward"] += t1 - t0
            t["backward"] += t2 - t1
            t["step"] += t3 - t2
        return {k: v / steps * 1e3 for k, v in t.items()}


def make_pair(kind, batch_size, x, y):
    import torch

    import deepgrad

    dmodel, tmodel = twin_models(kind)
    order = np.random.default_rng(0).permutation(len(x))
    xd, yd = deepgrad.tensor(x, device="cuda"), deepgrad.tensor(y, device="cuda")
    xt, yt = torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda")
    od = deepgrad.tensor(order, device="cuda")
    ot = torch.tensor(order, device="cuda")
    dg = Epoch(deepgrad, dmodel, xd, yd, np.arange(len(order)), batch_size)
    th = Epoch(torch, tmodel, xt, yt, np.arange(len(order)), batch_size)
    # the batch indices live on the GPU too: slices of the permutation
    dg.batches = [od[b * batch_size : (b + 1) * batch_size] for b in range(len(dg.batches))]
    th.batches = [ot[b * batch_size : (b + 1) * batch_size] for b in range(len(th.batches))]
    return dg, th


def alternate(name, dg, th, rounds):
    dg(), th()  # warm-up: kernels compiled, memory pools filled, cuBLAS plans made
    d, t = [], []
    for r in range(rounds):
        pair = [(d, dg), (t, th)]
        for out, fn in pair if r % 2 == 0 else reversed(pair):
            out.append(fn())
    md, mt = statistics.median(d), statistics.median(t)
    print(f"{name:10s} deepgrad {md:7.3f}s  pytorch {mt:7.3f}s  ratio {md / mt:5.2f}  last loss "
          f"{dg.last_loss:.4f} / {th.last_loss:.4f}", flush=True)  # fmt: skip
    return {"deepgrad": md, "pytorch": mt, "ratio": md / mt, "steps": len(dg.batches),
            "loss": (dg.last_loss, th.last_loss)}  # fmt: skip


def environment():
    import cupy
    import torch

    import deepgrad

    props = cupy.cuda.runtime.getDeviceProperties(0)
    return {
        "gpu": props["name"].decode(),
        "memory": f"{props['totalGlobalMem'] / 2**30:.0f} GiB",
        "cupy": cupy.__version__,
        "cuda runtime": cupy.cuda.runtime.runtimeGetVersion(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "deepgrad": deepgrad.__version__,
    }


def profile_text(dg, steps=30):
    prof = cProfile.Profile()
    dg.sync()
    prof.enable()
    for sel in dg.batches[:steps]:
        dg.step(sel)
    dg.sync()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(18)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    return "\n".join(lines[:30])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "RESULTS-gpu.md"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated workload names (W1,W3,...)")
    args = ap.parse_args(argv)
    import deepgrad

    if not deepgrad.cuda.is_available():
        print(f"no GPU for deepgrad ({deepgrad.cuda.unavailable_reason()}): nothing to measure")
        return 0
    env = environment()
    print(env, flush=True)
    x, y, source = data()
    # the last row measures the convolution kernels' choice (see deepgrad/cuda/conv.py): the
    # generic kernels (sizes as arguments) against the ones compiled for each geometry
    workloads = [("W1", "mlp", 128), ("W3", "cnn", 128), ("W1-1024", "mlp", 1024),
                 ("W3-1024", "cnn", 1024), ("W3-1024-generic", "cnn", 1024)]  # fmt: skip
    from deepgrad.cuda import conv as cuda_conv

    only = {w for w in args.only.split(",") if w}
    results, phases, profiles = {}, {}, {}
    for name, kind, bs in workloads:
        if only and name not in only:
            continue
        cuda_conv._SPECIALIZE = not name.endswith("-generic")
        try:
            dg, th = make_pair(kind, bs, x, y)
            results[name] = alternate(name, dg, th, args.rounds) | {"batch": bs}
            if args.profile:
                phases[name] = (dg.phases(), th.phases())
                if name in ("W1", "W3"):
                    profiles[name] = profile_text(dg)
        except Exception:  # report and go on to the next workload
            traceback.print_exc()
    write(args.out, env, source, results, phases, profiles, args.rounds)
    return 0


def write(path, env, source, results, phases, profiles, rounds):
    lines = [
        "# deepgrad on the GPU against PyTorch CUDA eager",
        "",
        f"GPU: **{env['gpu']}** ({env['memory']}). CuPy {env['cupy']} (CUDA runtime "
        f"{env['cuda runtime']}), PyTorch {env['torch']} (the GPU machine's own build; the "
        f"CPU suite pins 2.13), NumPy {env['numpy']}, Python {env['python']}.",
        "",
        f"Made by `benchmarks/gpu_bench.py` (run by `benchmarks/gpu_check.sh`). Data: {source}, "
        "on the GPU before timing. One epoch = 60,000 samples; SGD with momentum 0.9, "
        "cross-entropy; the same initial weights and batch order in both frameworks. Medians of "
        f"{rounds} alternating rounds after a warm-up epoch; ratio = deepgrad / PyTorch.",
        "",
        "| workload | batch | steps | deepgrad (s) | PyTorch (s) | ratio | goal | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        goal = GOALS[r["batch"]]
        met = "yes" if r["ratio"] <= goal else "no"
        if name.endswith("-generic"):  # a comparison row, not a goal
            goal, met = "-", "(generic conv kernels, for comparison)"
        lines.append(
            f"| {name} | {r['batch']} | {r['steps']} | {r['deepgrad']:.3f} | {r['pytorch']:.3f} "
            f"| {r['ratio']:.2f} | {goal} | {met} |"
        )
    if phases:
        lines += ["", "## Where a step's time goes (ms per step, each phase to a synchronize)", "",
                  "| workload | framework | forward | backward | optimiser step |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for name, (d, t) in phases.items():
            for who, p in (("deepgrad", d), ("PyTorch", t)):
                lines.append(f"| {name} | {who} | {p['forward']:.3f} | {p['backward']:.3f} | "
                             f"{p['step']:.3f} |")  # fmt: skip
    for name, text in profiles.items():
        lines += ["", f"## deepgrad's Python time in {name} (cProfile, 30 steps, by own time)",
                  "", "```", text, "```"]  # fmt: skip
    Path(path).write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
