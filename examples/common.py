"""What every example shares: where its pictures go, and the quick "smoke" mode.

    python examples/mlp_concise.py               # the full run; pictures in examples/out/
    python examples/mlp_concise.py --out pics    # pictures in pics/ (or DEEPGRAD_EXAMPLES_OUT)
    python examples/mlp_concise.py --smoke       # a few seconds: little data, one epoch
    DEEPGRAD_SMOKE=1 python examples/...         # the same (what the test suite runs)

Smoke mode only checks that the script still runs end to end and draws its pictures; its
numbers mean nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import deepgrad


def setup(description: str, seed: int = 0) -> tuple[Path, bool]:
    """Parse ``--out``/``--smoke``, seed deepgrad, and return ``(out_dir, smoke)``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--out",
        default=os.environ.get("DEEPGRAD_EXAMPLES_OUT", Path(__file__).parent / "out"),
        help="folder for the pictures (default: examples/out, or $DEEPGRAD_EXAMPLES_OUT)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("DEEPGRAD_SMOKE", "") not in ("", "0"),
        help="tiny data and one epoch, to check the script runs (or DEEPGRAD_SMOKE=1)",
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    deepgrad.manual_seed(seed)
    global _started
    _started = time.perf_counter()
    return out, args.smoke


_started = time.perf_counter()


def saved(*paths) -> None:
    """Report the pictures written and the time taken."""
    for p in paths:
        print(f"saved {p}")
    print(f"done in {time.perf_counter() - _started:.1f} s")


def fashion_mnist(smoke: bool, n_train: int | None = None, n_test: int | None = None):
    """Fashion-MNIST as whole tensors ``(X_train, y_train, X_test, y_test, class_names)``,
    images flattened to 784 values in [0, 1]; the first ``n_train``/``n_test`` examples only
    when given (a few hundred in smoke mode)."""
    from deepgrad.data import FashionMNIST

    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    x_train, y_train = train.tensors(flatten=True)
    x_test, y_test = test.tensors(flatten=True)
    if smoke:
        n_train, n_test = 512, 256
    if n_train is not None:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    if n_test is not None:
        x_test, y_test = x_test[:n_test], y_test[:n_test]
    return x_train, y_train, x_test, y_test, train.classes
