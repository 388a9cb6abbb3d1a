"""Side-by-side benchmarks of deepgrad against PyTorch on the CPU (``make bench``).

Both frameworks run in this one process with the same thread count, data, batch order,
initial weights (copied from PyTorch into deepgrad) and float32. After a warm-up, the two
alternate over several rounds; the table reports medians and the ratio deepgrad / PyTorch
(below 1 means deepgrad is faster). Peak memory (W6) needs a process per framework, so it runs
W1 once in two child processes that each import only their own framework.

Each run records its host: the CPU model, the vector ISA deepgrad's kernels chose, the BLAS
and its kernel, and the float32 GEMM peak measured in the same run; each workload's ratio and
the fraction of that peak deepgrad reached. Results are kept per host kind (CPU model, ISA
and core count) in benchmarks/hosts.json; a run replaces its own host's entry and rewrites
benchmarks/RESULTS.md with every host side by side. Never part of ``make test``.
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
# deepgrad/kernels/blas_threads.py); set it from the start so every workload is compared fairly.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
# deepgrad's kernels (and, on Intel CPUs, its MKL products) run on GCC's OpenMP runtime, which
# deepgrad loads with a spin chosen for the host (deepgrad/kernels/openmp.py: spin_count).
# PyTorch's wheel ships a libgomp.so.1 of its own, and in one process deepgrad's team uses that
# already-loaded runtime, which has the default spin; its idle threads then kept a core from
# deepgrad's convolution kernels (W3 1.29-1.43 against 1.03-1.11). So the run gives the shared
# runtime deepgrad's setting before PyTorch loads it, as a deepgrad-only process has it.
# PyTorch's times did not change with it: W1 1.011/0.997 s against 1.029/1.013 s (Intel, 30,000
# turns); on an AMD EPYC, PyTorch alone 0.92-1.04 s with 300,000 (its default), 30,000 or 1,000.
# (Set below, once deepgrad can be imported.)
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

if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
    from deepgrad.kernels import openmp as _openmp  # before PyTorch loads the runtime

    os.environ["GOMP_SPINCOUNT"] = str(_openmp.spin_count())

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


def gemm_peak_gflops(n=2048, repeats=7) -> dict:
    """float32 GEMM throughput of a large square product: NumPy's BLAS, and deepgrad's products
    where they take another path (MKL, or NumPy's OpenBLAS on deepgrad's OpenMP team:
    deepgrad.kernels.products). The host's peak is the faster of the two, so a fraction of it
    is never flattered by the slower path."""
    from deepgrad.kernels import products

    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    libraries = {"numpy": lambda: a @ b}
    if products.active():  # "mkl", or "openblas" (NumPy's, on deepgrad's OpenMP team)
        libraries[products.backend()] = lambda: products.matmul(a, b)
    result = {}
    for name, product in libraries.items():
        product()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            product()
            times.append(time.perf_counter() - t)
        result[name] = 2 * n**3 / min(times) / 1e9
    return result


#: multiply-adds per sample of each model's forward pass (its layers' products/convolutions)
MACS = {
    "mlp": 784 * 512 + 512 * 256 + 256 * 10,
    "softmax": 784 * 10,
    "cnn": 16 * 1 * 25 * 28 * 28 + 32 * 16 * 25 * 14 * 14 + 1568 * 10,
    "xor": 2 * 8 + 8 * 1,
}


def flops(kind: str, samples: int, training: bool) -> float:
    """FLOPs of the products: forward 2 per multiply-add, training 3x that (two in backward)."""
    return (3 if training else 1) * 2 * MACS[kind] * samples


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


def cpu_flags() -> set:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def host_key(machine: dict) -> str:
    """What makes two runs the same host kind: CPU model, the kernels' ISA, cores."""
    return f"{machine['cpu']} | {machine['kernels_isa'].split()[0]} | {machine['cores']} cores"


def settings(args) -> dict:
    return {
        "rounds": args.rounds,
        "limit": args.limit,
        "w3_epoch": args.w3_epoch,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def update_hosts(path: Path, run: dict) -> dict:
    """The stored runs per host kind, this run replacing its own host's (workload by workload,
    so an ``--only`` run keeps the host's other workloads)."""
    hosts = json.loads(path.read_text()) if path.exists() else {}
    key = host_key(run["machine"])
    old = hosts.get(key, {"results": {}})
    merged = {**old["results"], **run["results"]}
    hosts[key] = {**run, "results": merged}
    fastest = fastest_pytorch_w1(old, run)
    if fastest is not None:
        hosts[key]["pytorch_w1_fastest"] = fastest
    path.write_text(json.dumps(hosts, indent=2, sort_keys=True) + "\n")
    return hosts


def fastest_pytorch_w1(old: dict, run: dict) -> float | None:
    """PyTorch's fastest W1 epoch in any run kept for this host kind: the host's quiet pace.

    Why: the shared hosts have slow spells, tens of seconds to minutes in which a training
    loop runs 10-50% slower in both frameworks while the 2048^3 GEMM keeps its speed (the
    optimiser's pass over 6 MiB of weights, gradients and momentum slowed most, 67-74 against
    160-192 us a step: data that stays in the L3 cache when the host is quiet came from
    memory). The ratios hold through a spell, a fraction of the GEMM peak does not, so each run
    says how far PyTorch's own W1 was from this pace."""
    times = [r["results"]["W1"]["pytorch"] for r in (old, run) if "W1" in r.get("results", {})]
    if "pytorch_w1_fastest" in old:
        times.append(old["pytorch_w1_fastest"])
    return min(times) if times else None


def host_pace(run_w1: dict, fastest: float | None) -> str:
    """'PyTorch's W1 epoch 1.288 s, 45% above its fastest here (0.888 s)': the host's state
    in this run (see ``fastest_pytorch_w1``)."""
    if fastest is None:
        return ""
    slower = run_w1["pytorch"] / fastest - 1
    return (
        f"PyTorch's W1 epoch {run_w1['pytorch']:.3f} s, {slower:.0%} above its fastest on this "
        f"host kind ({fastest:.3f} s)"
    )


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
    import deepgrad.kernels

    target = deepgrad.kernels.describe()
    flags = cpu_flags()
    return {
        "cpu": cpu,
        "cpu_vector_isa": "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "?",
        "kernels_isa": f"{target['isa']} ({target['vector_floats']} floats per vector, "
        f"LLVM cpu {target['llvm_cpu']})",
        "openblas_kernel": kernel + (f" (the host's {unpinned} removed)" if unpinned else ""),
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "threads": THREADS,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
        "deepgrad_products": target["products"],
        "deepgrad_kernel_threads": target["threads"],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


GOALS = {"W1": 0.95, "W2": 1.0, "W3": 1.0, "W4": 0.5, "W5": 1.0, "W6": 1.0, "W7": 1.0}
#: W1 must also reach this fraction of the GEMM peak measured in the same run
W1_PEAK_GOAL = 0.75
TITLES = {
    "W1": "MLP 784-512-256-10 ReLU, SGD momentum, batch 128, 1 Fashion-MNIST epoch",
    "W2": "softmax regression 784-10, same settings, 1 epoch",
    "W3": "CNN 2 conv + linear, batch 128, 100 batches",
    "W4": "XOR 2-8-1 tanh/sigmoid, BCE, Adam, 2000 full-batch steps",
    "W5": "inference, course MLP, batch 1000, test set",
    "W6": "peak resident memory of W1 (MiB, one process per framework)",
    "W7": "inference, course CNN, batch 1000, test set",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="W1,W2,W3,W4,W5,W6,W7")
    parser.add_argument("--limit", type=int, default=None, help="training samples (quick runs)")
    parser.add_argument(
        "--w3-epoch", action="store_true", help="W3 over a whole epoch instead of 100 batches"
    )
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    parser.add_argument(
        "--hosts", default=str(HERE / "hosts.json"), help="results kept per host kind"
    )
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

    peaks = gemm_peak_gflops()
    peak = max(peaks.values())
    results["gemm_peak_gflops"] = peak
    results["gemm_peaks_gflops"] = peaks
    each = ", ".join(f"{name} {value:.1f}" for name, value in peaks.items())
    print(f"GEMM peak (2048^3 float32): {peak:.1f} GFLOP/s ({each})", flush=True)
    epoch = len(order) // 128 * 128
    if "W1" in only:
        results["W1"] = alternate("W1", *training("mlp"), args.rounds)
        results["W1"]["flops"] = flops("mlp", epoch, True)
    if "W2" in only:
        results["W2"] = alternate("W2", *training("softmax"), args.rounds)
        results["W2"]["flops"] = flops("softmax", epoch, True)
    if "W3" in only:
        batches = None if args.w3_epoch else 100
        results["W3"] = alternate("W3", *training("cnn", max_batches=batches), args.rounds)
        results["W3"]["flops"] = flops("cnn", min(epoch, 128 * (batches or epoch)), True)
        if args.w3_epoch:
            TITLES["W3"] = "CNN 2 conv + linear, batch 128, 1 Fashion-MNIST epoch"
    if "W4" in only:

        def dg4():
            return xor_steps(deepgrad, twin_models("xor")[0])[0]

        def th4():
            return xor_steps(torch, twin_models("xor")[1])[0]

        results["W4"] = alternate("W4", dg4, th4, args.rounds)
        results["W4"]["flops"] = flops("xor", 4 * 2000, True)
    if "W5" in only:
        results["W5"] = alternate("W5", *fresh_pair("mlp", inference, xte), args.rounds)
        results["W5"]["flops"] = flops("mlp", len(xte), False)
    if "W7" in only:
        results["W7"] = alternate("W7", *fresh_pair("cnn", inference, xte), args.rounds)
        results["W7"]["flops"] = flops("cnn", len(xte), False)
    if "W6" in only:
        d = peak_rss_child("deepgrad", args.limit)
        t = peak_rss_child("torch", args.limit)
        results["W6"] = {"deepgrad": d, "pytorch": t, "ratio": d / t, "rounds": 1}
        print(f"W6   deepgrad {d:8.1f}MiB pytorch {t:8.1f}MiB ratio {d / t:5.2f}")

    for r in results.values():
        if isinstance(r, dict) and "flops" in r:
            r["gflops"] = r["flops"] / r["deepgrad"] / 1e9
            r["of_peak"] = r["gflops"] / peak
    machine = machine_description()
    run = {"machine": machine, "results": results, "settings": settings(args)}
    (HERE / "results.json").write_text(json.dumps(run, indent=2))
    hosts = update_hosts(Path(args.hosts), run)
    if "W1" in results:
        g = results["W1"]["gflops"]
        print(f"     W1 {g:.1f} GFLOP/s = {g / peak:.1%} of the GEMM peak {peak:.1f}")
        pace = host_pace(results["W1"], hosts[host_key(machine)].get("pytorch_w1_fastest"))
        print(f"     host: {pace}")
    write_results(Path(args.out), hosts)
    return 0


def _cell(wid: str, r: dict) -> str:
    if wid == "W6":
        return f"{r['ratio']:.2f} ({r['deepgrad']:.0f} vs {r['pytorch']:.0f} MiB)"
    peak = f", {r['of_peak']:.0%} of peak" if "of_peak" in r and wid != "W4" else ""
    met = "" if r["ratio"] <= GOALS[wid] else " **not met**"
    return f"{r['ratio']:.2f} ({r['deepgrad']:.3f} vs {r['pytorch']:.3f} s{peak}){met}"


def write_results(path: Path, hosts: dict) -> None:
    """RESULTS.md: every host kind side by side, then each host's machine and settings."""
    keys = sorted(hosts)
    lines = [
        "# deepgrad vs PyTorch on the CPU",
        "",
        "Measured by `make bench` (benchmarks/run.py): one process, same threads, data, batch",
        "order, initial weights and float32; warm-up, then the frameworks alternate; medians.",
        "Each cell: ratio = deepgrad / PyTorch (lower is better for deepgrad), the two times,",
        "and the fraction of the host's float32 GEMM peak (measured in the same run) that",
        "deepgrad's products reached. One column per host kind; a run replaces its own host's",
        "column (benchmarks/hosts.json keeps them).",
        "",
        "| id | workload | goal | "
        + " | ".join(f"host {i + 1}: {k.replace(' | ', ', ')}" for i, k in enumerate(keys))
        + " |",
        "|---|---|---|" + "---|" * len(keys),
    ]
    for wid in ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]:
        cells = [hosts[k]["results"].get(wid) for k in keys]
        if not any(cells):
            continue
        row = [_cell(wid, c) if c else "-" for c in cells]
        lines.append(f"| {wid} | {TITLES[wid]} | <= {GOALS[wid]} | " + " | ".join(row) + " |")
    peaks = []
    for k in keys:
        r = hosts[k]["results"]
        if "W1" in r and "of_peak" in r["W1"]:
            ok = "met" if r["W1"]["of_peak"] >= W1_PEAK_GOAL else "**not met**"
            peaks.append(f"{r['W1']['of_peak']:.1%} ({ok})")  # (74.6% is not 75%)
        else:
            peaks.append("-")
    lines.append(
        f"| W1 | ... fraction of GEMM peak | >= {W1_PEAK_GOAL:.0%} | " + " | ".join(peaks) + " |"
    )
    lines += ["", "How it is measured, and the profile behind any goal not met: "
              "[benchmarks/README.md](README.md).", ""]  # fmt: skip
    for i, k in enumerate(keys):
        h = hosts[k]
        st = h["settings"]
        quick = f", quick run on {st['limit']} training samples" if st.get("limit") else ""
        each = h["results"].get("gemm_peaks_gflops", {})
        which = (
            " (the faster of " + " and ".join(f"{k} {v:.1f}" for k, v in each.items()) + ")"
            if len(each) > 1
            else ""
        )
        w1 = h["results"].get("W1")
        pace = host_pace(w1, h.get("pytorch_w1_fastest")) if w1 else ""
        lines += [
            f"## Host {i + 1}: {k}",
            "",
            f"Run {st['date']}, medians of {st['rounds']} rounds{quick}; float32 GEMM peak "
            f"{h['results']['gemm_peak_gflops']:.1f} GFLOP/s{which}."
            + (f" The host's pace in this run: {pace}." if pace else ""),
            "",
        ]
        lines += [f"- {name}: {value}" for name, value in h["machine"].items()]
        lines.append("")
    lines += gpu_results_link()
    from distributed import kept_section  # benchmarks/distributed.py: make bench-distributed

    lines += kept_section(path)
    path.write_text("\n".join(lines).rstrip("\n") + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
