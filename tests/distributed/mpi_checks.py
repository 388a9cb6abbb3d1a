"""Checks that need several MPI ranks, run by tests/distributed/test_distributed.py as

    mpiexec -n 2 python tests/distributed/mpi_checks.py OUT_DIR [checks|fail]

One launch runs every check (each launch costs process start-up). Each rank writes
OUT_DIR/rank-R.json: for every check, the measured values and a list of failures (empty when
it passed), so pytest reports each check of each rank separately. A check that raises is
recorded as failed and the others still run; the ranks stay in step because every check calls
the same collectives on every rank.

``fail`` mode: rank 1 raises inside its forward pass while rank 0 goes on into backward (where
it would wait forever for rank 1's all-reduce); the job must end with rank 1's message.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import numpy as np

import deepgrad
import deepgrad.distributed as dist
from deepgrad import models, nn, optim
from deepgrad.data import DistributedSampler, TensorDataset
from deepgrad.nn.parallel import DistributedDataParallel as DDP

DTYPES = (np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_)
SHAPES = ((), (5,), (3, 4), (2, 3, 4))
OPS = ("SUM", "AVG", "MAX", "MIN", "PRODUCT")
NUMPY_OPS = {
    "SUM": lambda a: np.sum(a, axis=0, dtype=a.dtype),
    "AVG": lambda a: np.sum(a, axis=0, dtype=a.dtype) / a.shape[0],
    "MAX": lambda a: np.max(a, axis=0),
    "MIN": lambda a: np.min(a, axis=0),
    "PRODUCT": lambda a: np.prod(a, axis=0, dtype=a.dtype),
}
BOOL_OPS = {"SUM": np.any, "MAX": np.any, "MIN": np.all, "PRODUCT": np.all}


def rank_data(rank: int, case: int, dtype, shape) -> np.ndarray:
    """Rank ``rank``'s input of a case; every rank can rebuild every other rank's."""
    g = np.random.default_rng(1000 * case + rank)
    if dtype == np.bool_:
        return g.random(shape) < 0.5
    if np.dtype(dtype).kind == "f":
        return g.normal(size=shape).astype(dtype)
    return g.integers(1, 5, size=shape).astype(dtype)  # small: products stay in range


def all_ranks(case, dtype, shape, world) -> np.ndarray:
    return np.stack([rank_data(r, case, dtype, shape) for r in range(world)])


class Check:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.values: dict = {}

    def equal(self, what: str, actual, expected) -> None:
        actual, expected = np.asarray(actual), np.asarray(expected)
        if actual.dtype != expected.dtype or actual.shape != expected.shape:
            self.failures.append(
                f"{what}: got {actual.dtype}{actual.shape}, expected {expected.dtype}"
                f"{expected.shape}"
            )
        elif not np.array_equal(actual, expected):
            self.failures.append(f"{what}: got {actual.tolist()}, expected {expected.tolist()}")

    def true(self, what: str, condition: bool) -> None:
        if not condition:
            self.failures.append(what)


# ---------------------------------------------------------------------------- collectives
def check_all_reduce(c: Check, rank: int, world: int) -> None:
    case = 0
    for dtype in DTYPES:
        for shape in SHAPES:
            for op in OPS:
                case += 1
                name = f"all_reduce {op} {np.dtype(dtype)} {shape}"
                data = all_ranks(case, dtype, shape, world)
                t = deepgrad.from_numpy(np.array(data[rank]))
                if (
                    dtype == np.bool_
                    and op == "AVG"
                    or np.dtype(dtype).kind in "iub"
                    and op == "AVG"
                ):
                    try:
                        dist.all_reduce(t, op=dist.ReduceOp.AVG)
                        c.failures.append(f"{name}: no error for AVG of {np.dtype(dtype)}")
                    except ValueError:
                        pass
                    continue
                work = dist.all_reduce(t, op=getattr(dist.ReduceOp, op), async_op=case % 2 == 0)
                if work is not None:
                    work.wait()
                    c.true(f"{name}: is_completed() False after wait()", work.is_completed())
                if dtype == np.bool_:
                    expected = BOOL_OPS[op](data, axis=0)
                else:
                    expected = np.asarray(NUMPY_OPS[op](data)).astype(dtype)
                c.equal(name, t.numpy(), expected)
    # a non-contiguous view is reduced in place through the view, like any tensor
    base = rank_data(rank, 999, np.float64, (3, 4))
    view = deepgrad.from_numpy(base).T
    dist.all_reduce(view)
    c.equal(
        "all_reduce of a transposed view", base, all_ranks(999, np.float64, (3, 4), world).sum(0)
    )


def check_other_collectives(c: Check, rank: int, world: int) -> None:
    for case, dtype in enumerate(DTYPES, start=500):
        shape = (2, 3)
        data = all_ranks(case, dtype, shape, world)
        tag = np.dtype(dtype).name
        for src in range(world):
            t = deepgrad.from_numpy(np.array(data[rank]))
            dist.broadcast(t, src=src)
            c.equal(f"broadcast {tag} from {src}", t.numpy(), data[src])
            t = deepgrad.from_numpy(np.array(data[rank]))
            dist.broadcast(t, src, async_op=True).wait()
            c.equal(f"broadcast async {tag} from {src}", t.numpy(), data[src])
        outs = [deepgrad.from_numpy(np.zeros(shape, dtype)) for _ in range(world)]
        work = dist.all_gather(outs, deepgrad.from_numpy(np.array(data[rank])), async_op=True)
        work.wait()
        c.equal(f"all_gather {tag}", np.stack([o.numpy() for o in outs]), data)
        for dst in range(world):
            ops = ("SUM", "MAX", "MIN") if dtype == np.bool_ else ("SUM", "MAX", "MIN", "PRODUCT")
            ops += ("AVG",) if np.dtype(dtype).kind == "f" else ()
            for op in ops:
                t = deepgrad.from_numpy(np.array(data[rank]))
                dist.reduce(t, dst=dst, op=getattr(dist.ReduceOp, op))
                if dtype == np.bool_:
                    expected = BOOL_OPS[op](data, axis=0)
                else:
                    expected = np.asarray(NUMPY_OPS[op](data)).astype(dtype)
                c.equal(
                    f"reduce {op} {tag} to {dst}",
                    t.numpy(),
                    expected if rank == dst else data[rank],
                )
        for src in range(world):
            parts = all_ranks(case + 100, dtype, shape, world)
            t = deepgrad.from_numpy(np.zeros(shape, dtype))
            given = [deepgrad.from_numpy(p) for p in parts] if rank == src else None
            if src == 1:
                dist.scatter(t, given, src=src, async_op=True).wait()
            else:
                dist.scatter(t, given, src=src)
            c.equal(f"scatter {tag} from {src}", t.numpy(), parts[rank])
            outs = [deepgrad.from_numpy(np.zeros(shape, dtype)) for _ in range(world)]
            dist.gather(
                deepgrad.from_numpy(np.array(data[rank])), outs if rank == src else None, src
            )
            if rank == src:
                c.equal(f"gather {tag} to {src}", np.stack([o.numpy() for o in outs]), data)
    dist.barrier()
    dist.barrier(async_op=True).wait()
    c.values["rank"], c.values["world_size"] = dist.get_rank(), dist.get_world_size()
    c.true("is_initialized() is False", dist.is_initialized())
    c.true(f"get_backend() is {dist.get_backend()!r}", dist.get_backend() == "mpi")


# ---------------------------------------------------------------------------- sampler
def check_sampler(c: Check, rank: int, world: int) -> None:
    for n in (10, 11, 64, 3):
        for drop_last in (False, True):
            ds = TensorDataset(deepgrad.arange(n))
            s = DistributedSampler(ds, shuffle=True, seed=7, drop_last=drop_last)
            epochs = []
            for epoch in range(3):
                s.set_epoch(epoch)
                mine = np.array(list(s), dtype=np.int64)
                c.true(f"n={n} len(sampler) {len(s)} != {len(mine)} indices", len(s) == len(mine))
                outs = [deepgrad.zeros(len(mine), dtype=deepgrad.int64) for _ in range(world)]
                dist.all_gather(outs, deepgrad.from_numpy(mine))
                union = np.concatenate([o.numpy() for o in outs])
                counts = np.bincount(union, minlength=n)
                tag = f"n={n} drop_last={drop_last} epoch={epoch}"
                if drop_last:
                    c.true(f"{tag}: a sample seen twice", counts.max() <= 1)
                    c.true(f"{tag}: {len(union)} samples", len(union) == n // world * world)
                else:
                    c.true(f"{tag}: a sample not seen", counts.min() >= 1)
                    c.true(f"{tag}: {len(union)} samples", len(union) == -(-n // world) * world)
                    if n % world == 0:
                        c.true(f"{tag}: not each sample exactly once", (counts == 1).all())
                epochs.append(union)
            if n > 3:
                c.true(
                    f"n={n}: set_epoch did not reshuffle", not np.array_equal(epochs[0], epochs[1])
                )
            s.set_epoch(1)
            first = np.array(list(s))
            c.equal(f"n={n}: epoch 1 twice", np.array(list(s)), first)


# ---------------------------------------------------------------------------- DDP
def make_model(kind: str, dtype, seed: int):
    deepgrad.manual_seed(seed)
    model = models.mlp() if kind == "mlp" else models.cnn()
    return model.to(dtype)


def make_optimizer(name: str, model):
    if name == "sgd":
        return optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return optim.Adam(model.parameters(), lr=1e-3)


def batches(kind: str, dtype, steps: int, size: int):
    """Random inputs and labels; float32 values in both dtypes, so the float64 run of a case
    is the exact computation for its float32 run."""
    g = np.random.default_rng(42)
    shape = (size, 784) if kind == "mlp" else (size, 1, 28, 28)
    for _ in range(steps):
        yield (
            deepgrad.from_numpy(g.normal(size=shape).astype(np.float32).astype(dtype)),
            deepgrad.from_numpy(g.integers(0, 10, size=size).astype(np.int64)),
        )


def train(model, opt, data, rank=None, world=1):
    loss_fn = nn.CrossEntropyLoss()
    for x, y in data:
        if rank is not None:  # this rank's share of the global batch
            n = len(y) // world
            x, y = x[rank * n : (rank + 1) * n], y[rank * n : (rank + 1) * n]
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def train_sharded(model, opt, data, world: int):
    """One process doing DDP's arithmetic: each shard's gradient, summed, times 1 / world."""
    loss_fn = nn.CrossEntropyLoss()
    params = list(model.parameters())
    for x, y in data:
        n = len(y) // world
        total = None
        for r in range(world):
            opt.zero_grad()
            loss_fn(model(x[r * n : (r + 1) * n]), y[r * n : (r + 1) * n]).backward()
            grads = [p.grad.numpy().copy() for p in params]
            total = grads if total is None else [t + g for t, g in zip(total, grads)]
        for p, t in zip(params, total):
            t *= np.asarray(1.0 / world, dtype=t.dtype)
            p.grad = deepgrad.from_numpy(t)
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def max_diff(a: list, b: list) -> tuple[float, float]:
    abs_diff = max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))
    scale = max(float(np.max(np.abs(y))) for y in b)
    return abs_diff, abs_diff / scale


EQUIVALENCE = [(kind, opt) for kind in ("mlp", "cnn") for opt in ("sgd", "adam")]


def check_equivalence(c: Check, rank: int, world: int, steps: int = 20) -> None:
    """DDP with ``world`` ranks x batch 64 against one process.

    float64: against one process with batch 64 * world; the weights agree within 1e-12 (the
    average of the shards' gradients is the whole batch's gradient). float32: against one
    process that computes each shard's gradient and averages them as DDP does; the weights
    must be equal bit for bit. (An earlier oracle, "DDP is as close to float64 as the single
    process at batch 128", compared two rounding errors that Adam magnifies chaotically where
    a gradient is nearly zero: 6.3e-5 against 2.1e-6 on an AMD EPYC host with NumPy's ops.)
    """
    for i, (kind, opt_name) in enumerate(EQUIVALENCE):
        exact = None
        for dtype in (np.float64, np.float32):
            tag = f"{kind} {opt_name} {np.dtype(dtype).name}"
            dtype_t = deepgrad.float64 if dtype == np.float64 else deepgrad.float32
            data = batches(kind, dtype, steps, 64 * world)
            # rank 1 starts from other weights: DDP must replace them with rank 0's
            ddp = DDP(make_model(kind, dtype_t, seed=rank))
            ddp_weights = train(ddp, make_optimizer(opt_name, ddp), data, rank, world)
            c.true(
                f"{tag}: {ddp.comm_stats['iterations']} syncs for {steps} steps",
                ddp.comm_stats["iterations"] == steps,
            )
            _check_same_on_all_ranks(c, tag, ddp_weights, world)
            if i % world != rank:  # each single-process reference is computed by one rank
                continue
            ref = make_model(kind, dtype_t, seed=0)
            data = batches(kind, dtype, steps, 64 * world)
            if dtype == np.float64:
                ref_weights = train(ref, make_optimizer(opt_name, ref), data)
            else:
                ref_weights = train_sharded(ref, make_optimizer(opt_name, ref), data, world)
            abs_diff, rel_diff = max_diff(ddp_weights, ref_weights)
            values = {"max_abs_diff": abs_diff, "max_rel_diff": rel_diff}
            values["buckets"] = len(ddp._buckets)
            if dtype == np.float64:
                exact = ref_weights
                c.true(f"{tag}: weights differ by {abs_diff:.3g} > 1e-12", abs_diff <= 1e-12)
            else:
                values["ddp_error_vs_float64"] = max_diff(ddp_weights, exact)[0]
                c.true(f"{tag}: weights differ by {abs_diff:.3g}, not bit for bit", abs_diff == 0)
            c.values[tag] = values


def _check_same_on_all_ranks(c: Check, tag: str, weights: list, world: int) -> None:
    for w in weights:
        outs = [deepgrad.from_numpy(np.zeros_like(w)) for _ in range(world)]
        dist.all_gather(outs, deepgrad.from_numpy(w))
        if not all(np.array_equal(o.numpy(), w) for o in outs):
            c.failures.append(f"{tag}: the ranks' weights differ")
            return


def check_no_sync(c: Check, rank: int, world: int) -> None:
    """Two micro-batches per rank, the first under no_sync, equal one step on all samples."""
    steps, micro = 3, 32
    model = DDP(make_model("mlp", deepgrad.float64, seed=rank))
    opt = make_optimizer("sgd", model)
    ref = make_model("mlp", deepgrad.float64, seed=0)
    ref_opt = make_optimizer("sgd", ref)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for x, y in batches("mlp", np.float64, steps, 2 * micro * world):
        mine = slice(rank * 2 * micro, (rank + 1) * 2 * micro)
        xa, ya = x[mine][:micro], y[mine][:micro]
        xb, yb = x[mine][micro:], y[mine][micro:]
        opt.zero_grad()
        with model.no_sync():
            loss_fn(model(xa), ya).backward()
        if first is None:
            first = (xa, ya, [p.grad.numpy().copy() for p in model.module.parameters()])
        loss_fn(model(xb), yb).backward()
        opt.step()
        # the reference: the sum of the micro-batch means is world x the mean over all samples
        ref_opt.zero_grad()
        (loss_fn(ref(x), y) * world).backward()
        ref_opt.step()
    # after the first no_sync backward the gradients were this rank's own (nothing was sent)
    xa, ya, local = first
    check = make_model("mlp", deepgrad.float64, seed=0)
    loss_fn(check(xa), ya).backward()
    own = [p.grad.numpy() for p in check.parameters()]
    local_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(local, own))
    c.true(f"no_sync gradients are not the rank's own (diff {local_diff:.3g})", local_diff == 0)
    abs_diff, rel_diff = max_diff(
        [p.detach().numpy() for p in model.module.parameters()],
        [p.detach().numpy() for p in ref.parameters()],
    )
    c.values["no_sync"] = {"max_abs_diff": abs_diff, "max_rel_diff": rel_diff}
    c.true(f"no_sync: weights differ by {abs_diff:.3g}", abs_diff <= 1e-12)
    c.values["ddp_iterations"] = model.comm_stats["iterations"]
    c.true(
        f"no_sync: {model.comm_stats['iterations']} syncs for {steps} steps",
        model.comm_stats["iterations"] == steps,
    )


def conv_bn(sync: bool, seed: int):
    deepgrad.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
    ).to(deepgrad.float64)
    return nn.SyncBatchNorm.convert_sync_batchnorm(model) if sync else model


def check_batchnorm(c: Check, rank: int, world: int) -> None:
    g = np.random.default_rng(5)
    loss_fn = nn.CrossEntropyLoss()
    data = [
        (
            deepgrad.from_numpy(g.normal(size=(16 * world, 1, 8, 8)) + 2.0),
            deepgrad.from_numpy(g.integers(0, 3, 16 * world)),
        )
        for _ in range(4)
    ]
    mine = slice(rank * 16, (rank + 1) * 16)
    # SyncBatchNorm: the global batch's statistics, as one process
    sync = DDP(conv_bn(True, seed=rank))
    c.true(
        "convert_sync_batchnorm left a BatchNorm2d", isinstance(sync.module[1], nn.SyncBatchNorm)
    )
    ref = conv_bn(False, seed=0)
    opt, ref_opt = optim.SGD(sync.parameters(), lr=0.1), optim.SGD(ref.parameters(), lr=0.1)
    for x, y in data:
        opt.zero_grad()
        ref_opt.zero_grad()
        out = sync(x[mine])
        loss_fn(out, y[mine]).backward()
        ref_out = ref(x)
        loss_fn(ref_out, y).backward()
        opt.step()
        ref_opt.step()
    out_diff = float(np.max(np.abs(out.detach().numpy() - ref_out.detach().numpy()[mine])))
    state, ref_state = sync.module.state_dict(), ref.state_dict()
    state_diff = max(
        float(np.max(np.abs(state[k].numpy().astype(np.float64) - ref_state[k].numpy())))
        for k in ref_state
    )
    c.values["sync_batchnorm"] = {"output_diff": out_diff, "state_diff": state_diff}
    c.true(f"SyncBatchNorm output differs by {out_diff:.3g}", out_diff <= 1e-12)
    c.true(f"SyncBatchNorm weights/running stats differ by {state_diff:.3g}", state_diff <= 1e-12)
    # plain BatchNorm under DDP: each rank normalises with its own batch's statistics
    local = DDP(conv_bn(False, seed=0))
    alone = conv_bn(False, seed=0)
    x = data[0][0][mine]
    diff = float(np.max(np.abs(local(x).detach().numpy() - alone(x).detach().numpy())))
    c.true(f"BatchNorm under DDP does not use local statistics (diff {diff:.3g})", diff <= 1e-12)


CHECKS = {
    "all_reduce": check_all_reduce,
    "collectives": check_other_collectives,
    "sampler": check_sampler,
    "equivalence": check_equivalence,
    "no_sync": check_no_sync,
    "batchnorm": check_batchnorm,
}


def run_checks(out: Path) -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    results = {}
    for name, fn in CHECKS.items():
        c = Check()
        try:
            fn(c, rank, world)
        except Exception:  # noqa: BLE001 - recorded, the other checks still run
            c.failures.append(traceback.format_exc())
        results[name] = {"failures": c.failures, "values": c.values}
    (out / f"rank-{rank}.json").write_text(json.dumps(results, indent=1))


def fail_in_forward() -> None:
    """Rank 1 raises in forward; rank 0 reaches backward's all-reduce and would wait forever."""

    class Fragile(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(4, 2)

        def forward(self, x):
            if dist.get_rank() == 1:
                raise ValueError("boom in the forward pass of rank 1")
            return self.linear(x)

    model = DDP(Fragile())
    model(deepgrad.randn(3, 4)).sum().backward()
    dist.barrier()
    print("rank 0 finished: the job did not stop", flush=True)


if __name__ == "__main__":
    dist.init_process_group("mpi")
    out_dir = Path(sys.argv[1])
    if sys.argv[2:] == ["fail"]:
        fail_in_forward()
    else:
        run_checks(out_dir)
    dist.destroy_process_group()
