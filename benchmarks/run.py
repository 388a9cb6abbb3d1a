"""Side-by-side benchmarks of deepgrad against PyTorch on the CPU (``make bench``).

Both frameworks run in this one process with the same thread count, data, batch order,
initial weights (copied from PyTorch into deepgrad) and float32. After a warm-up, the two
alternate over several rounds; the table reports medians and the ratio deepgrad / PyTorch
(below 1 means deepgrad is faster). Peak memory (W6) needs a process per framework, so it runs
W1 once in two child processes that each import only their own framework.

Writes benchmarks/RESULTS.md with the machine described. Never part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
THREADS = int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1))
# Same BLAS thread count for NumPy's OpenBLAS as for PyTorch; must be set before NumPy loads.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, str(THREADS))
# NumPy's OpenBLAS keeps its worker threads spinning for ~0.1 s after each product; in one
# process with PyTorch they take cores from PyTorch's threads (W5: PyTorch 0.18 s with them,
# 0.11 s without). deepgrad stops that itself when its compiled kernels first run (see
# deepgrad/ops/blas_threads.py); set it from the start so every workload is compared fairly.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
# Some hosts pin OpenBLAS to an older kernel (OPENBLAS_CORETYPE=Haswell, a workaround for old
# OpenBLAS builds) even on AVX-512 processors; NumPy's current OpenBLAS then runs its GEMMs at
# half speed while PyTorch's oneDNN uses AVX-512. Compare both at their best: drop the pin for
# this process (and its W6 children) before NumPy loads OpenBLAS. The table records it.
UNPINNED = {
    var: os.environ.pop(var)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    if var in os.environ and os.environ.get("BENCH_KEEP_OPENBLAS_CORETYPE") != "1"
}

import numpy as np  # noqa: E402

# ---------------------------------------------------------------------- data


def fashion_mnist(limit: int | None = None):
    """Train and test images as float32 (N, 1, 28, 28) standardised, labels int64."""
    from deepgrad.data.idx import read_idx

    root = Path("/usr/share/datasets/fashion-mnist")
    if os.environ.get("DEEPGRAD_DATA"):
        root = Path(os.environ["DEEPGRAD_DATA"])
    xtr = read_idx(root / "train-images-idx3-ubyte.gz").astype(np.float32) / 255
    ytr = read_idx(root / "train-labels-idx1-ubyte.gz").astype(np.int64)
    xte = read_idx(root / "t10k-images-idx3-ubyte.gz").astype(np.float32) / 255
    yte = read_idx(root / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    mean, std = xtr.mean(), xtr.std()
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    if limit:
        xtr, ytr = xtr[:limit], ytr[:limit]
    return xtr[:, None], ytr, xte[:, None], yte


# ---------------------------------------------------------------------- models


def build(lib, kind: str):
    nn = lib.nn
    if kind == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 512),
            nn.ReLU(),
            nn.Linear(512, 256),
            nn.ReLU(),
            nn.Linear(256, 10),
        )
    if kind == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    if kind == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(1568, 10),
        )
    if kind == "xor":
        return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    raise ValueError(kind)


def twin_models(kind: str):
    """A PyTorch model and a deepgrad model with identical initial weights."""
    import torch

    import deepgrad

    torch.manual_seed(0)
    tmodel = build(torch, kind)
    dmodel = build(deepgrad, kind)
    state = {k: deepgrad.tensor(v.detach().numpy().copy()) for k, v in tmodel.state_dict().items()}
    dmodel.load_state_dict(state)
    return dmodel, tmodel


# ---------------------------------------------------------------------- workloads


def train_epoch(lib, model, x, y, order, batch_size=128, lr=0.01, max_batches=None):
    """One epoch of SGD with momentum 0.9 and cross-entropy, in the given batch order."""
    opt = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    xt, yt = lib.from_numpy(x), lib.from_numpy(y)
    n_batches = len(order) // batch_size
    if max_batches:
        n_batches = min(n_batches, max_batches)
    idx = lib.from_numpy(order)
    start = time.perf_counter()
    for b in range(n_batches):
        sel = idx[b * batch_size : (b + 1) * batch_size]
        xb, yb = xt[sel], yt[sel]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    return seconds, loss.item()


def xor_steps(lib, model, steps=2000):
    x = lib.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = lib.tensor([[0.0], [1.0], [1.0], [0.0]])
    opt = lib.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = lib.nn.BCELoss()
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return time.perf_counter() - start, loss.item()


def inference(lib, model, x, batch_size=1000):
    xt = lib.from_numpy(x)
    model.eval()
    start = time.perf_counter()
    correct = 0
    with lib.no_grad():
        for i in range(0, len(x), batch_size):
            correct += int(model(xt[i : i + batch_size]).argmax(1).sum())
    return time.perf_counter() - start, correct


def gemm_peak_gflops(n=2048, repeats=5) -> float:
    """float32 GEMM throughput of this machine's BLAS, measured with a large NumPy matmul."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / min(times) / 1e9


def mlp_epoch_flops(n_samples: int) -> float:
    """Forward (1x) plus backward (2x) multiply-adds of the three Linear layers, as FLOPs."""
    macs = 784 * 512 + 512 * 256 + 256 * 10
    return 3 * 2 * macs * n_samples


def gpu_results_link() -> list[str]:
    """The line pointing to the GPU results (benchmarks/gpu_bench.py), naming their GPU."""
    gpu = HERE / "RESULTS-gpu.md"
    if not gpu.exists():
        return []
    first = next((ln for ln in gpu.read_text().splitlines() if ln.startswith("GPU: ")), "")
    name = first.split("**")[1] if first.count("**") >= 2 else "a GPU"
    return [
        f"On the GPU ({name}), against PyTorch CUDA: [RESULTS-gpu.md](RESULTS-gpu.md).",
        "",
    ]


# ---------------------------------------------------------------------- harness


def alternate(name, run_dg, run_th, rounds: int, warmup: int = 1):
    """Run both frameworks in turn: warm-up first, then ``rounds`` timed pairs."""
    for _ in range(warmup):
        run_dg()
        run_th()
    dg, th = [], []
    for r in range(rounds):
        pair = [("dg", run_dg), ("th", run_th)]
        if r % 2:  # alternate who goes first, so neither always runs on a warmer cache
            pair.reverse()
        for who, fn in pair:
            (dg if who == "dg" else th).append(fn())
    d, t = statistics.median(dg), statistics.median(th)
    print(f"{name:4s} deepgrad {d:8.3f}s  pytorch {t:8.3f}s  ratio {d / t:5.2f}", flush=True)
    return {"deepgrad": d, "pytorch": t, "ratio": d / t, "rounds": rounds}


def peak_rss_child(framework: str, limit: int | None) -> float:
    """Peak resident memory (MiB) of a fresh process running W1 with one framework.

    The process imports its framework and loads the data, then resets the kernel's high-water
    mark (``/proc/self/clear_refs``) so the peak measured is that of training, framework
    included, not of decoding the data files.
    """
    code = f"""
import sys, numpy as np
sys.path.insert(0, {str(HERE)!r})
import run as b
if {framework!r} == "torch":
    import torch; torch.set_num_threads({THREADS}); lib = torch
else:
    import deepgrad; lib = deepgrad
x, y, _, _ = b.fashion_mnist({limit!r})
order = np.random.default_rng(0).permutation(len(x))
model = b.build(lib, "mlp")
open("/proc/self/clear_refs", "w").write("5")
b.train_epoch(lib, model, x, y, order)
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def machine_description() -> dict:
    import torch

    cfg = np.show_config(mode="dicts")
    blas = cfg.get("Build Dependencies", {}).get("blas", {})
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    kernel = "?"
    try:
        from threadpoolctl import threadpool_info

        kernel = next(
            (
                i.get("architecture", "?")
                for i in threadpool_info()
                if i["internal_api"] == "openblas"
            ),
            "?",
        )
    except ImportError:
        pass
    unpinned = ", ".join(f"{k}={v}" for k, v in UNPINNED.items())
    return {
        "cpu": cpu,
        "openblas_kernel": kernel + (f" (the host's {unpinned} removed)" if unpinned else ""),
        "cores": os.cpu_count(),
        "threads": THREADS,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


GOALS = {"W1": 0.95, "W2": 1.0, "W3": 1.0, "W4": 0.5, "W5": 1.0, "W6": 1.0}
TITLES = {
    "W1": "MLP 784-512-256-10 ReLU, SGD momentum, batch 128, 1 Fashion-MNIST epoch",
    "W2": "softmax regression 784-10, same settings, 1 epoch",
    "W3": "CNN 2 conv + linear, batch 128, 100 batches",
    "W4": "XOR 2-8-1 tanh/sigmoid, BCE, Adam, 2000 full-batch steps",
    "W5": "inference, course MLP, batch 1000, test set",
    "W6": "peak resident memory of W1 (MiB, one process per framework)",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="W1,W2,W3,W4,W5,W6")
    parser.add_argument("--limit", type=int, default=None, help="training samples (quick runs)")
    parser.add_argument(
        "--w3-epoch", action="store_true", help="W3 over a whole epoch instead of 100 batches"
    )
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    only = set(args.only.split(","))

    import torch

    import deepgrad

    torch.set_num_threads(THREADS)
    x, y, xte, yte = fashion_mnist(args.limit)
    order = np.random.default_rng(0).permutation(len(x))
    results = {}

    def fresh_pair(kind, fn, *a, **kw):
        dmodel, tmodel = twin_models(kind)
        return (lambda: fn(deepgrad, dmodel, *a, **kw)[0]), (lambda: fn(torch, tmodel, *a, **kw)[0])

    # Training runs restart from the same weights each round, so every round does the same work.
    def training(kind, **kw):
        def dg():
            dmodel, _ = twin_models(kind)
            return train_epoch(deepgrad, dmodel, x, y, order, **kw)[0]

        def th():
            _, tmodel = twin_models(kind)
            return train_epoch(torch, tmodel, x, y, order, **kw)[0]

        return dg, th

    if "W1" in only:
        results["W1"] = alternate("W1", *training("mlp"), args.rounds)
        peak = gemm_peak_gflops()
        achieved = mlp_epoch_flops(len(order) // 128 * 128) / results["W1"]["deepgrad"] / 1e9
        results["W1"]["gflops"] = achieved
        results["gemm_peak_gflops"] = peak
        print(f"     W1 {achieved:.1f} GFLOP/s = {achieved / peak:.0%} of GEMM peak {peak:.1f}")
    if "W2" in only:
        results["W2"] = alternate("W2", *training("softmax"), args.rounds)
    if "W3" in only:
        batches = None if args.w3_epoch else 100
        results["W3"] = alternate("W3", *training("cnn", max_batches=batches), args.rounds)
        if args.w3_epoch:
            TITLES["W3"] = "CNN 2 conv + linear, batch 128, 1 Fashion-MNIST epoch"
    if "W4" in only:

        def dg4():
            return xor_steps(deepgrad, twin_models("xor")[0])[0]

        def th4():
            return xor_steps(torch, twin_models("xor")[1])[0]

        results["W4"] = alternate("W4", dg4, th4, args.rounds)
    if "W5" in only:
        results["W5"] = alternate("W5", *fresh_pair("mlp", inference, xte), args.rounds)
    if "W6" in only:
        d = peak_rss_child("deepgrad", args.limit)
        t = peak_rss_child("torch", args.limit)
        results["W6"] = {"deepgrad": d, "pytorch": t, "ratio": d / t, "rounds": 1}
        print(f"W6   deepgrad {d:8.1f}MiB pytorch {t:8.1f}MiB ratio {d / t:5.2f}")

    machine = machine_description()
    write_results(Path(args.out), results, machine, args)
    summary = {"machine": machine, "results": results}
    (HERE / "results.json").write_text(json.dumps(summary, indent=2))
    return 0


def write_results(path: Path, results: dict, machine: dict, args) -> None:
    lines = [
        "# deepgrad vs PyTorch on the CPU",
        "",
        "Measured by `make bench` (benchmarks/run.py): one process, same threads, data, batch",
        "order, initial weights and float32; warm-up, then the frameworks alternate; medians of "
        f"{args.rounds} rounds. Ratio = deepgrad / PyTorch (lower is better for deepgrad).",
        "",
        "| id | workload | deepgrad | PyTorch | ratio | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for wid in ["W1", "W2", "W3", "W4", "W5", "W6"]:
        if wid not in results:
            continue
        r = results[wid]
        unit = " MiB" if wid == "W6" else " s"
        fmt = "{:.1f}" if wid == "W6" else "{:.3f}"
        met = "yes" if r["ratio"] <= GOALS[wid] else "no"
        lines.append(
            f"| {wid} | {TITLES[wid]} | {fmt.format(r['deepgrad'])}{unit} | "
            f"{fmt.format(r['pytorch'])}{unit} | {r['ratio']:.2f} | <= {GOALS[wid]} | {met} |"
        )
    if "W1" in results and "gemm_peak_gflops" in results:
        g, p = results["W1"]["gflops"], results["gemm_peak_gflops"]
        lines += [
            "",
            f"W1 achieves {g:.1f} GFLOP/s, {g / p:.0%} of this machine's float32 GEMM "
            f"peak ({p:.1f} GFLOP/s, a 2048x2048 NumPy matmul in the same run).",
        ]
    lines += [
        "",
        "How it is measured, and the profile behind any goal not met: "
        "[benchmarks/README.md](README.md).",
        "",
        *gpu_results_link(),
        "Machine:",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in machine.items()]
    if args.limit:
        lines += ["", f"(quick run on {args.limit} training samples)"]
    from distributed import kept_section  # benchmarks/distributed.py: make bench-distributed

    lines += kept_section(path)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
