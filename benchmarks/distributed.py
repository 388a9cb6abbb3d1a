"""Data-parallel training on 1 and 2 MPI ranks of this machine (``make bench-distributed``).

W1 (the course MLP, SGD with momentum) and W3 (the course CNN) train on Fashion-MNIST with
batch 128 per rank, each rank one process with one BLAS thread, started by ``mpiexec``:

- 1 rank is the plain training loop, no DDP: the baseline a user would compare against;
- 2 ranks wrap the model in ``DistributedDataParallel`` and give each rank its own batches, so
  one step trains 2 x 128 samples (weak scaling, as DDP is used: the per-rank batch stays,
  the global batch grows). A strong-scaling row keeps the global batch at 128 (64 per rank).

Reported: throughput in samples/s, speed-up and scaling efficiency (speed-up / ranks) against
1 rank, and the share of all-reduce time hidden behind backward:

    hidden = 1 - (time backward waited for all-reduces per step) / (all-reduce time per step)

where the all-reduce time is measured separately, after training, by reducing the same
buckets with blocking calls. Results go into benchmarks/RESULTS.md between the markers below
(``make bench`` keeps that section). Never part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- bench-distributed -->", "<!-- /bench-distributed -->"
WORKLOADS = {
    "W1": ("mlp", "MLP 784-512-256-10 ReLU, SGD momentum 0.9, batch 128 per rank"),
    "W3": ("cnn", "CNN 2 conv + linear, SGD momentum 0.9, batch 128 per rank"),
}
GOAL = 1.7  # W3 at 2 ranks against 1 rank, 1 thread each


# ---------------------------------------------------------------------------- one rank
def load_data(limit: int):
    import numpy as np

    from deepgrad.data.idx import read_idx

    root = Path(os.environ.get("DEEPGRAD_DATA", "/usr/share/datasets/fashion-mnist"))
    x = read_idx(root / "train-images-idx3-ubyte.gz")[:limit].astype(np.float32) / 255
    y = read_idx(root / "train-labels-idx1-ubyte.gz")[:limit].astype(np.int64)
    x = (x - x.mean()) / x.std()
    return x[:, None], y


def worker(kind: str, steps: int, batch: int, warmup: int, ddp: bool, bucket_mb: float) -> dict:
    import deepgrad
    import deepgrad.distributed as dist
    from deepgrad import models, nn, optim

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = load_data((steps + warmup) * batch * world)
    xt, yt = deepgrad.from_numpy(x), deepgrad.from_numpy(y)
    deepgrad.manual_seed(0)
    model = models.mlp() if kind == "mlp" else models.cnn()
    trained = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_mb) if ddp else model
    opt = optim.SGD(trained.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step(s: int) -> None:
        lo = (s * world + rank) * batch  # this rank's batch of global step s
        opt.zero_grad()
        loss_fn(trained(xt[lo : lo + batch]), yt[lo : lo + batch]).backward()
        opt.step()

    for s in range(warmup):
        step(s)
    if ddp:
        trained.comm_stats.update(iterations=0, wait_seconds=0.0)
    dist.barrier()
    start = time.perf_counter()
    for s in range(warmup, warmup + steps):
        step(s)
    seconds = time.perf_counter() - start
    longest = deepgrad.tensor([seconds], dtype=deepgrad.float64)
    dist.all_reduce(longest, op=dist.ReduceOp.MAX)
    result = {
        "seconds": float(longest.item()),
        "samples_per_s": steps * batch * world / float(longest.item()),
    }
    if ddp:
        from mpi4py import MPI

        comm = dist.process_group.get_comm()
        buffers = [b.buffer.copy() for b in trained._buckets]
        dist.barrier()
        t = time.perf_counter()
        for _ in range(steps):
            for buf in buffers:
                comm.Allreduce(MPI.IN_PLACE, buf, MPI.SUM)
        allreduce = (time.perf_counter() - t) / steps
        wait = trained.comm_stats["wait_seconds"] / trained.comm_stats["iterations"]
        result.update(
            buckets=len(buffers),
            allreduce_ms=1e3 * allreduce,
            exposed_ms=1e3 * wait,
            hidden=max(0.0, min(1.0, 1 - wait / allreduce)) if allreduce > 0 else 1.0,
        )
    dist.destroy_process_group()
    result["rank"] = rank
    return result


# ---------------------------------------------------------------------------- the driver
def run(ranks: int, kind: str, steps: int, batch: int, warmup: int, bucket_mb: float) -> dict:
    from deepgrad.distributed.run import mpiexec_command

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent / "src"), env.get("PYTHONPATH", "")])
    args = [str(Path(__file__)), "--worker", kind, "--steps", str(steps), "--batch", str(batch)]
    args += ["--warmup", str(warmup), "--bucket-cap-mb", str(bucket_mb)]
    args += ["--ddp"] if ranks > 1 else []
    out = subprocess.run(
        mpiexec_command(ranks, args), env=env, capture_output=True, text=True, timeout=1800
    )
    if out.returncode != 0:
        raise RuntimeError(
            f"{ranks} ranks, {kind}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--ddp", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per run (default 60)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128, help="batch per rank")
    parser.add_argument("--only", default="W1,W3")
    parser.add_argument(
        "--bucket-cap-mb",
        type=float,
        default=0.1,
        help="DDP bucket size in MiB (default 0.1; PyTorch's 25 puts each model in 1-2 buckets)",
    )
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    if args.worker:
        result = worker(
            args.worker, args.steps, args.batch, args.warmup, args.ddp, args.bucket_cap_mb
        )
        if result["rank"] == 0:
            print(json.dumps(result), flush=True)
        return 0
    rows = []
    for wid in args.only.split(","):
        kind, title = WORKLOADS[wid]
        common = (args.steps, args.batch, args.warmup, args.bucket_cap_mb)
        one = run(1, kind, *common)
        two = run(2, kind, *common)
        strong = run(2, kind, args.steps, args.batch // 2, args.warmup, args.bucket_cap_mb)
        for label, r in (
            ("1 rank", one),
            ("2 ranks", two),
            (f"2 ranks x {args.batch // 2}", strong),
        ):
            speedup = r["samples_per_s"] / one["samples_per_s"]
            ranks = 1 if label == "1 rank" else 2
            rows.append((wid, title, label, r, speedup, speedup / ranks))
            hidden = f"{100 * r['hidden']:.0f}%" if "hidden" in r else "-"
            print(
                f"{wid} {label:14s} {r['samples_per_s']:8.1f} samples/s  speed-up {speedup:4.2f}  "
                f"efficiency {speedup / ranks:4.0%}  hidden {hidden}",
                flush=True,
            )
    write_results(Path(args.out), rows, args)
    return 0


def section(rows, args) -> list[str]:
    import platform

    lines = [
        BEGIN,
        "## Data-parallel training on MPI ranks (`make bench-distributed`)",
        "",
        f"benchmarks/distributed.py: Fashion-MNIST, {args.steps} timed steps after "
        f"{args.warmup} warm-up steps, one process and one BLAS thread per rank under mpiexec. "
        "1 rank is the plain loop without DDP; 2 ranks use DistributedDataParallel with batch "
        f"{args.batch} per rank (global {2 * args.batch}), and the strong-scaling row keeps the "
        f"global batch at {args.batch}. Buckets of at most {args.bucket_cap_mb:g} MiB "
        "(PyTorch's default 25 MiB makes the CNN one bucket, which can only start when backward "
        "ends). Hidden = share of the all-reduce time that overlapped backward: 1 - exposed / "
        "all-reduce, exposed = time backward waited for all-reduces to finish (including for "
        "the other rank to catch up), all-reduce = the same buckets reduced with blocking calls.",
        "",
        "| id | workload | ranks | samples/s | speed-up | efficiency | buckets | all-reduce "
        "| exposed | hidden |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for wid, title, label, r, speedup, eff in rows:
        comm = (
            f"{r['buckets']} | {r['allreduce_ms']:.2f} ms | {r['exposed_ms']:.2f} ms | "
            f"{100 * r['hidden']:.0f}%"
            if "hidden" in r
            else "- | - | - | -"
        )
        lines.append(
            f"| {wid} | {title} | {label} | {r['samples_per_s']:.1f} | {speedup:.2f} | "
            f"{eff:.0%} | {comm} |"
        )
    w3 = [row for row in rows if row[0] == "W3" and row[2] == "2 ranks"]
    if w3:
        met = "met" if w3[0][4] >= GOAL else "not met"
        lines += [
            "",
            f"Goal: W3 at 2 ranks >= {GOAL}x the throughput of 1 rank: {w3[0][4]:.2f}x, {met}.",
        ]
    lines += [
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores.",
        END,
    ]
    return lines


def write_results(path: Path, rows, args) -> None:
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + text[text.index(END) + len(END) :].lstrip("\n")
    path.write_text(text.rstrip("\n") + "\n\n" + "\n".join(section(rows, args)) + "\n")
    print(f"wrote {path}")


def kept_section(path: Path) -> list[str]:
    """The distributed section of ``path``, for benchmarks/run.py to keep when it rewrites it."""
    text = path.read_text() if path.exists() else ""
    if BEGIN not in text or END not in text:
        return []
    return ["", *text[text.index(BEGIN) : text.index(END) + len(END)].splitlines()]


if __name__ == "__main__":
    sys.exit(main())
