"""Accuracy of the course's models, trained by the ``deepgrad train`` command with its
defaults: ``make accuracy`` runs every check below and rewrites ``ACCURACY.md``.

Each check is one command line, run as a user would run it (in a subprocess, progress bars
off), read back from the run folder's ``metrics.json`` (``cv.json`` for cross-validation).
The seconds are the training time the run reports (data loading and pictures excluded) and
the wall time of the whole command (pictures included).

    python benchmarks/accuracy.py              # all checks (about 6 minutes on 2 cores)
    python benchmarks/accuracy.py --only iris,xor
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEEPGRAD = [sys.executable, "-m", "deepgrad.cli"]

FASHION = "Fashion-MNIST test set"
# name: (arguments of deepgrad train, goal, what the goal is about)
CHECKS = {
    "mlp": ("--model mlp --dataset fashion-mnist --epochs 10", 0.895, FASHION),
    "softmax": ("--model softmax --dataset fashion-mnist --epochs 10", 0.84, FASHION),
    "cnn": ("--model cnn --dataset fashion-mnist --epochs 10", 0.915, FASHION),
    "iris": ("--model mlp --dataset iris --cv 10", 0.96, "mean of 10-fold cross-validation"),
    "iris-split": ("--model mlp --dataset iris", None, "one 80/20 split (30 test flowers)"),
    "spiral": ("--model mlp --dataset spiral", 0.95, "2-class spiral, 200 test points"),
    "xor": ("--model mlp --dataset xor", 1.0, "XOR, 200 test points"),
}  # fmt: skip


def run_check(name: str, args: str, out: Path) -> dict:
    argv = [*DEEPGRAD, "train", *args.split(), "--out", str(out / name), "--quiet"]
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    if "--cv" in args:
        cv = json.loads((out / name / "cv.json").read_text())
        return {"accuracy": cv["test_accuracy_mean"], "train_s": cv["seconds"], "wall_s": wall}
    m = json.loads((out / name / "metrics.json").read_text())
    return {"accuracy": m["test_accuracy"], "train_s": m["seconds"], "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated checks: " + ",".join(CHECKS))
    parser.add_argument("--out", default="runs/accuracy", help="folder for the run folders")
    parser.add_argument("--write", default=str(HERE / "ACCURACY.md"), help="markdown report")
    opts = parser.parse_args()
    names = opts.only.split(",") if opts.only else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        parser.error(f"unknown checks {unknown}; choose from {', '.join(CHECKS)}")

    rows = []
    for name in names:
        args, goal, about = CHECKS[name]
        r = run_check(name, args, Path(opts.out))
        met = "-" if goal is None else ("yes" if r["accuracy"] >= goal - 1e-12 else "**no**")
        goal_text = "-" if goal is None else f">= {100 * goal:.1f}%"
        rows.append(
            f"| `deepgrad train {args}` | {about} | {100 * r['accuracy']:.2f}% | {goal_text} "
            f"| {met} | {r['train_s']:.1f} | {r['wall_s']:.1f} |"
        )
        print(rows[-1], flush=True)

    lines = [
        "# Accuracy of the course's models",
        "",
        "Written by `make accuracy` (`benchmarks/accuracy.py`) from one run of each command, "
        "with the defaults of `deepgrad train` and seed 0.",
        "",
        "Protocol: `deepgrad train` holds 10% of the training data out as validation data "
        "(`--val-split 0.1`, drawn with the seed); the per-epoch metrics and curves come from "
        "it, and the test set is evaluated once, after the last epoch. The models therefore "
        "train on 54,000 of Fashion-MNIST's 60,000 training images (each cross-validation "
        "fold of Iris on 90% of its 135 training flowers).",
        "",
        f"Machine: {platform.processor() or platform.machine()}, NumPy {np.__version__}, "
        f"Python {platform.python_version()}.",
        "",
        "| command | measured on | test accuracy | goal | met | training s | wall s |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Iris has 150 flowers, so one 80/20 split tests 30 of them and one flower is 3.3%; "
        "the goal is judged by 10-fold cross-validation, where every flower is tested once. "
        "On the single split of seed 0, linear discriminant analysis (the classic benchmark "
        "for Iris) also gets only 93.3%.",
        "",
    ]
    if not opts.only:
        Path(opts.write).write_text("\n".join(lines))
        print(f"wrote {opts.write}")


if __name__ == "__main__":
    main()
