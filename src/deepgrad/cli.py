"""The ``deepgrad`` command: train the course's models, evaluate and use them.

    deepgrad train --model mlp --dataset fashion-mnist --epochs 10 --out runs/mlp
    deepgrad train --resume runs/mlp --epochs 20
    deepgrad evaluate runs/mlp
    deepgrad predict runs/mlp shoe.png
    deepgrad datasets
    deepgrad summary --model cnn
    deepgrad gradcheck --model mlp --hidden 8
    deepgrad playground
    deepgrad train --nproc 2 --model cnn --dataset fashion-mnist   (data-parallel, 2 ranks)

Mistakes in the arguments get argparse's usage message (exit status 2); problems found while
running (a missing data set, a damaged run folder, a diverging loss) get a one-paragraph
``deepgrad COMMAND: error: ...`` saying what, where (file, line, column or flag) and what to do
(exit status 1); Ctrl-C says what was saved (exit status 130). None shows a traceback unless
``--debug`` is given. Every numeric argument is range-checked.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from deepgrad import __version__
from deepgrad.data.images import MAX_PIXELS
from deepgrad.registry import ACTIVATIONS, MODELS, OPTIMIZERS, TRAIN_DATASETS
from deepgrad.utils.argnames import command_line
from deepgrad.utils.argtypes import float_in, int_in

EXAMPLES = """examples:
  deepgrad train --model mlp --dataset fashion-mnist --epochs 10 --out runs/mlp
  deepgrad train --model mlp --dataset spiral --hidden 32,32 --activation tanh
  deepgrad train --resume runs/mlp --epochs 15
  deepgrad evaluate runs/mlp
  deepgrad predict runs/mlp picture.png
  deepgrad datasets
"""


# Upper bounds of the numeric arguments: far above any sensible use, low enough that a typo
# cannot ask for terabytes or years.
MAX_EPOCHS = 100_000
MAX_BATCH = 1_000_000
MAX_SAMPLES = 10_000_000
MAX_WIDTH = 65_536
MAX_LAYERS = 64
MAX_FOLDS = 100


# ----------------------------------------------------------------------------- argument types
_positive_int = int_in(1, 2**31 - 1)


def _hidden(text: str) -> list[int]:
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes separated by commas, like 512,256; got {text!r}"
        ) from None
    if any(not 0 < s <= MAX_WIDTH for s in sizes) or len(sizes) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(
            f"up to {MAX_LAYERS} layer sizes in 1..{MAX_WIDTH}, got {text!r}"
        )
    return sizes


def _dataset(text: str) -> str:
    if text in TRAIN_DATASETS:
        return text
    if text.startswith("csv:") and len(text) > 4:
        return text
    raise argparse.ArgumentTypeError(
        f"unknown dataset {text!r}; choose one of {', '.join(TRAIN_DATASETS)}, or csv:PATH"
    )


# ----------------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepgrad",
        description="Train, evaluate and use the course's models with deepgrad.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"deepgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser(
        "train",
        help="train a model and write a run folder with weights, metrics, pictures, report",
        description="Train a zoo model on a data set. Prints progress, then the final train "
        "and test accuracy; RUN_DIR receives checkpoint.safetensors and config.json after "
        "every epoch, then model.safetensors, history.csv, metrics.json, curves.png, "
        "confusion.png (boundary.png for 2-D data, weights.png for softmax regression on "
        "images) and report.md. Settings left out get defaults chosen for the model and data. "
        "See docs/RUNS.md for the run folder's rules and the input limits.",
    )
    t.add_argument("--model", choices=MODELS, help="the model (required unless --resume)")
    t.add_argument(
        "--dataset",
        type=_dataset,
        metavar="D",
        help=f"{', '.join(TRAIN_DATASETS)} or csv:PATH",
    )
    t.add_argument(
        "--epochs",
        type=int_in(1, MAX_EPOCHS),
        help="epochs to train (default 10; 50 for tables)",
    )
    t.add_argument("--batch-size", type=int_in(1, MAX_BATCH), help="mini-batch size")
    t.add_argument("--optimizer", choices=list(OPTIMIZERS), help="momentum = SGD with momentum 0.9")
    t.add_argument("--lr", type=float_in(0, 10, low_open=True), help="learning rate")
    t.add_argument(
        "--lr-decay",
        type=float_in(0, 1, low_open=True),
        metavar="GAMMA",
        help="multiply the learning rate by GAMMA after every epoch (default: per model)",
    )
    t.add_argument("--momentum", type=float_in(0, 1), help="momentum (sgd, momentum, rmsprop)")
    t.add_argument(
        "--weight-decay",
        type=float_in(0, 1),
        help="L2 penalty (weight decay) on the weights, not the biases (default 0)",
    )
    t.add_argument("--l1", type=float_in(0, 1), help="L1 penalty on the weights (default 0)")
    t.add_argument("--hidden", type=_hidden, help="hidden layer sizes of mlp, e.g. 512,256")
    t.add_argument(
        "--activation", choices=list(ACTIVATIONS), help="activation of mlp (default relu)"
    )
    t.add_argument("--seed", type=int_in(0, 2**32 - 1), help="random seed (default 0)")
    t.add_argument("--out", metavar="RUN_DIR", help="run folder (default runs/MODEL-DATASET-TIME)")
    t.add_argument(
        "--overwrite",
        action="store_true",
        help="write the run into --out even if it holds files that are not a deepgrad run",
    )
    t.add_argument(
        "--val-split",
        type=float_in(0, 0.9),
        metavar="F",
        help="fraction of the training data held out for the per-epoch validation metrics, "
        "curves and early stopping (default 0.1, drawn with --seed; 0: none). The test set is "
        "evaluated once, after training",
    )
    t.add_argument(
        "--early-stopping",
        type=int_in(1, MAX_EPOCHS),
        metavar="PATIENCE",
        help="stop when the validation loss has not improved for PATIENCE epochs, and keep "
        "the weights of the best epoch",
    )
    t.add_argument(
        "--allow-nonfinite",
        action="store_true",
        help="accept NaN and infinite features in csv:PATH (refused by default)",
    )
    t.add_argument(
        "--max-classes",
        type=int_in(2, 1_000_000),
        metavar="N",
        help="most distinct labels accepted in csv:PATH (default 1000)",
    )
    t.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue this run up to --epochs (default: the epochs it was started with)",
    )
    t.add_argument("--limit", type=_positive_int, metavar="N", help="use only N samples")
    t.add_argument(
        "--samples", type=int_in(10, MAX_SAMPLES), help="points of a 2-D toy set (default 1000)"
    )
    t.add_argument("--noise", type=float_in(0, 1), help="noise of a 2-D toy set (default 0)")
    t.add_argument("--label-column", metavar="COL", help="label column of csv:PATH (name/index)")
    t.add_argument(
        "--cv",
        type=int_in(2, MAX_FOLDS),
        metavar="K",
        help="K-fold cross-validation (tables and 2-D sets): train K models, each tested on "
        "its own fold, into RUN_DIR/fold-1 .. fold-K, and report the mean test accuracy",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.add_argument(
        "--nproc",
        type=_positive_int,
        metavar="N",
        help="train data-parallel on N ranks of this machine (through mpiexec); --batch-size "
        "is per rank. Under mpiexec or srun the ranks are found without it",
    )
    t.add_argument("--device", default="cpu", help="cpu (default), or cuda: train on the GPU")
    t.set_defaults(handler=cmd_train, subparser=t)

    e = sub.add_parser(
        "evaluate",
        help="accuracy, loss and per-class precision/recall of a trained run",
        description="Evaluate the trained model of RUN_DIR on its test (or train) data.",
    )
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--split", choices=("test", "train"), default="test")
    e.add_argument("--limit", type=_positive_int, metavar="N", help="use only N samples")
    e.set_defaults(handler=cmd_evaluate, subparser=e)

    p = sub.add_parser(
        "predict",
        help="classify a PNG image or the rows of a CSV file with a trained run",
        description="Classify INPUT with the model of RUN_DIR. A PNG must have the training "
        "images' size (or pass --resize) and is made grayscale (colour averaged); a CSV holds "
        "one sample per row under a header naming the training features (in any order; a "
        "column named like the training label is ignored).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("input", metavar="INPUT", help="a .png image or a .csv file")
    p.add_argument("--top", type=int_in(1, 1000), default=3, help="classes to list (default 3)")
    p.add_argument(
        "--resize",
        action="store_true",
        help="shrink or enlarge an image of another size than the training images (by area)",
    )
    p.add_argument(
        "--max-pixels",
        type=int_in(1, 2**31 - 1),
        default=MAX_PIXELS,
        metavar="N",
        help=f"largest image (width x height) decoded (default {MAX_PIXELS:,})",
    )
    p.add_argument(
        "--invert",
        choices=("auto", "yes", "no"),
        default="auto",
        help="invert the image (auto: when its border is light, as for dark ink on paper)",
    )
    p.set_defaults(handler=cmd_predict, subparser=p)

    d = sub.add_parser(
        "datasets",
        help="list the data sets, whether they are available and where they were found",
        description="List the data sets and where they were found (nothing is downloaded).",
    )
    d.set_defaults(handler=cmd_datasets, subparser=d)

    for name, helptext in (
        ("summary", "print a model's layers, output shapes and parameter counts"),
        ("gradcheck", "check a model's gradients against finite differences (float64)"),
    ):
        s = sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:])
        s.add_argument("--model", choices=MODELS, required=True)
        s.add_argument(
            "--dataset",
            type=_dataset,
            default="fashion-mnist",
            metavar="D",
            help="data set that decides input size and classes (default fashion-mnist)",
        )
        s.add_argument("--hidden", type=_hidden, help="hidden layer sizes of mlp")
        s.add_argument("--activation", choices=list(ACTIVATIONS), help="activation of mlp")
        s.set_defaults(handler=cmd_summary if name == "summary" else cmd_gradcheck, subparser=s)

    x = sub.add_parser(
        "export",
        help="export a trained run to ONNX, its input normalisation folded in",
        description="Export the model of RUN_DIR to ONNX (raw inputs in, logits out, any batch "
        "size); --check runs the file with ONNX Runtime on the run's test data and compares.",
    )
    x.add_argument("run_dir", metavar="RUN_DIR")
    x.add_argument("--format", choices=("onnx",), default="onnx", help="only onnx for now")
    x.add_argument("--out", metavar="FILE", help="output file (default RUN_DIR/model.onnx)")
    x.add_argument("--opset", type=_positive_int, help="ONNX opset (default 17)")
    x.add_argument("--check", action="store_true", help="verify with ONNX Runtime")
    x.add_argument("--limit", type=_positive_int, metavar="N", help="check only N test samples")
    x.set_defaults(handler=cmd_export, subparser=x)

    sub.add_parser(
        "playground",
        help="train small networks live in the browser (deepgrad playground --help)",
        add_help=False,
    )
    return parser


def entry() -> None:
    """The ``deepgrad`` console script: :func:`main`, then exit with its status, deaf to Ctrl-C.

    Once ``main`` has returned, the work is done (or its failure reported), so a late Ctrl-C
    must not change the outcome. Left to Python, one that lands in the interpreter's shutdown
    either raises ``KeyboardInterrupt`` in atexit and thread clean-up, or, once the signal
    module has put back the default action, kills the process (-2) after a run that
    succeeded. Ignoring SIGINT for the shutdown keeps main's status. (A Ctrl-C within the few
    instructions before the ``signal`` call is caught here, with the same effect.)
    """
    import signal

    status = 130
    try:
        status = main()
    except KeyboardInterrupt:  # after main's own handlers, in its last instructions
        print("\ndeepgrad: interrupted", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)


def main(argv=None) -> int:
    """The ``deepgrad`` command (run by :func:`entry`); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "playground":
        return cmd_playground(argv[1:])
    # --debug anywhere: tracebacks instead of one-paragraph errors.
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.command == "train":
        status = _distributed_train(args, argv)
        if status is not None:
            return status
    from deepgrad.data.csv import CSVError
    from deepgrad.data.images import ImageError
    from deepgrad.train.checkpoint import CheckpointError
    from deepgrad.train.fit import NonFiniteLossError
    from deepgrad.train.run import RunError, RunInterrupted

    def fail(message: str) -> int:
        print(f"deepgrad {args.command}: error: {message}", file=sys.stderr)
        return 1

    try:
        with command_line():  # errors name --flags, not Python arguments
            status = args.handler(args, args.subparser) or 0
        sys.stdout.flush()  # a reader gone away (| head) shows here, not at exit
        return status
    except (RunError, NonFiniteLossError, CheckpointError, CSVError, ImageError) as e:
        if debug:
            raise
        status = fail(str(e))
        _abort_other_ranks()
        return status
    except RunInterrupted as e:
        print(f"\ndeepgrad {args.command}: {e}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"\ndeepgrad {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except MemoryError:
        if debug:
            raise
        return fail(
            "out of memory; use less data (--limit), a smaller model or --batch-size, or "
            "check the input files' sizes"
        )
    except OSError as e:
        if debug:
            raise
        where = f" {e.filename}" if e.filename else ""
        return fail(f"cannot access{where}: {e.strerror or e}; check the path and permissions")
    except Exception as e:  # noqa: BLE001 - one paragraph, never a traceback (unless --debug)
        if debug:
            raise
        return fail(
            f"unexpected {type(e).__name__}: {e}. This is a bug in deepgrad, not in your input; "
            "run again with --debug for the traceback and report it"
        )


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``deepgrad evaluate RUN | head``): stop quietly
    with the shell's status for SIGPIPE, 128 + 13, as ``cat`` and ``grep`` do. Standard output
    is pointed at /dev/null first, so flushing it at exit cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (stdout replaced in tests)
        pass
    return 141


# ----------------------------------------------------------------------------- train
def _distributed_train(args, argv) -> int | None:
    """Start ``--nproc`` ranks through mpiexec (returns the job's exit status), or, inside a
    job of several ranks, join its process group and silence stdout on ranks other than 0
    (returns None: this process trains). None as well for a plain single-process run."""
    from deepgrad.distributed import launched_world_size

    world = launched_world_size()
    if args.cv is not None and max(world, args.nproc or 1) > 1:
        args.subparser.error(
            "--cv trains K small models one after another; run it in one process (without "
            "--nproc, mpiexec or srun)"
        )
    if world == 1 and args.nproc is not None and args.nproc > 1:
        from deepgrad.distributed.run import launch

        return launch(args.nproc, ["-m", "deepgrad.cli", *argv])
    if world > 1:
        if args.nproc is not None and args.nproc != world:
            args.subparser.error(
                f"--nproc {args.nproc} but this process is one of {world} ranks started by "
                "mpiexec/srun; leave --nproc out under a launcher"
            )
        from deepgrad.train import parallel

        parallel.init_from_environment()
        if not parallel.is_main_process():
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    return None


def _abort_other_ranks() -> None:
    """After an error on this rank, end the whole job: the other ranks would otherwise wait
    for this one forever in their next gradient all-reduce."""
    from deepgrad.train import parallel

    if parallel.world_size() > 1:
        from deepgrad.distributed import abort

        print(f"[rank {parallel.rank()}] aborting the job", file=sys.stderr)
        abort(1)


TRAIN_SETTINGS = (
    "model",
    "dataset",
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "lr_decay",
    "momentum",
    "weight_decay",
    "l1",
    "hidden",
    "activation",
    "seed",
    "limit",
    "samples",
    "noise",
    "label_column",
    "val_split",
    "early_stopping",
    "allow_nonfinite",
    "max_classes",
)


def cmd_train(args, parser) -> int:
    from deepgrad.device import check_device
    from deepgrad.train import run

    given = {k: getattr(args, k) for k in TRAIN_SETTINGS}
    given["allow_nonfinite"] = args.allow_nonfinite or None  # None: not given
    try:
        check_device(args.device)
    except RuntimeError as e:  # no GPU (or a device deepgrad lacks): say so, no traceback
        parser.error(f"--device {args.device}: {e}")
    if args.cv is not None and args.resume:
        parser.error("--cv trains K new models; it cannot --resume a run")
    if args.resume:
        config, out, done = _resume_settings(args, parser, given)
        print(f"resuming {args.resume} at epoch {done + 1} of {config['epochs']}", flush=True)
    else:
        if not args.model or not args.dataset:
            missing = [f"--{k}" for k in ("model", "dataset") if not getattr(args, k)]
            parser.error(f"the following arguments are required: {', '.join(missing)}")
        kind = run.dataset_kind(args.dataset)
        if (
            args.label_column is not None
            and kind != "table"
            or (args.label_column is not None and args.dataset == "iris")
        ):
            parser.error("--label-column only applies to --dataset csv:PATH")
        if (args.samples is not None or args.noise is not None) and kind != "points":
            parser.error("--samples and --noise only apply to the 2-D toy sets")
        if args.hidden is not None and args.model != "mlp":
            parser.error(f"--hidden only applies to --model mlp, not {args.model}")
        if args.cv is not None and kind == "images":
            parser.error(
                f"--cv {args.cv}: cross-validation needs a table or 2-D data set; "
                f"{args.dataset} has a test set of its own"
            )
        if (args.allow_nonfinite or args.max_classes is not None) and kind != "table":
            parser.error("--allow-nonfinite and --max-classes only apply to --dataset csv:PATH")
        try:
            config = run.resolve_config(given)
        except run.RunError as e:
            parser.error(str(e))
        out = Path(args.out) if args.out else _default_out(config)
        if args.cv is not None:
            return _cross_validate(config, out, args.cv, args.overwrite)
        if (out / "checkpoint.safetensors").exists():
            print(
                f"note: the run in {out} will be replaced once this run's first epoch is "
                "saved (until then it stays as it is)",
                file=sys.stderr,
            )
        print(f"training {_describe(config)} -> {out}", flush=True)
    metrics = run.train(
        config,
        out,
        resume=bool(args.resume),
        progress=not args.quiet,
        overwrite=args.overwrite,
        device=args.device,
    )
    if not metrics:  # a rank other than 0 of a data-parallel run: rank 0 reports
        return 0
    print(
        f"train accuracy {100 * metrics['train_accuracy']:.2f}%  "
        f"(loss {metrics['train_loss']:.4f})\n"
        f"test accuracy  {100 * metrics['test_accuracy']:.2f}%  "
        f"(loss {metrics['test_loss']:.4f})\n"
        f"{run.plural(metrics['epochs'], 'epoch')}, {metrics['seconds']:.1f} s of training\n"
        f"run saved in {out}/\n"
        f"report: {out / 'report.md'}"
    )
    return 0


def _cross_validate(config, out: Path, k: int, overwrite: bool = False) -> int:
    """Train one model per fold of k-fold cross-validation (each on the other k-1 folds) and
    report every fold's test accuracy, their mean and standard deviation; also in cv.json."""
    import json

    import numpy as np

    from deepgrad.train import run

    print(f"{k}-fold cross-validation of {_describe(config)} -> {out}", flush=True)
    run.check_out_folder(out, overwrite)
    folds = []
    for i in range(k):
        metrics = run.train(
            dict(config, folds=k, fold=i), out / f"fold-{i + 1}", progress=False, overwrite=True
        )
        folds.append(metrics)
        print(
            f"fold {i + 1:>2}/{k}: test accuracy {100 * metrics['test_accuracy']:6.2f}% "
            f"({metrics['test_samples']} samples), {metrics['seconds']:.1f} s",
            flush=True,
        )
    acc = np.array([m["test_accuracy"] for m in folds])
    summary = {
        "folds": k,
        "test_accuracy_mean": float(acc.mean()),
        "test_accuracy_std": float(acc.std()),
        "test_accuracy_per_fold": acc.tolist(),
        "seconds": float(sum(m["seconds"] for m in folds)),
    }
    from deepgrad.utils.atomic import atomic_write_text

    atomic_write_text(out / "cv.json", json.dumps(summary, indent=2) + "\n")
    print(
        f"{k}-fold cross-validation: test accuracy {100 * acc.mean():.2f}% "
        f"(std {100 * acc.std():.2f}%, folds {100 * acc.min():.1f}% .. {100 * acc.max():.1f}%)\n"
        f"{summary['seconds']:.1f} s of training; runs in {out}/fold-1 .. fold-{k}, "
        f"summary in {out / 'cv.json'}"
    )
    return 0


def _resume_settings(args, parser, given):
    from deepgrad.train import run

    source = Path(args.resume)
    info = run.read_run_checkpoint(source)
    if info is None:
        raise run.RunError(
            f"--resume {source}: no checkpoint.safetensors there, so there is nothing to "
            "resume (a run saves its first checkpoint at the end of epoch 1); start it again "
            "with --out"
        )
    config, done = info["config"], info["epoch"]
    changed = [
        f"--{k.replace('_', '-')}"
        for k, v in given.items()
        if v is not None and k != "epochs" and v != config.get(k)
    ]
    if changed:
        parser.error(
            f"{', '.join(changed)} {'differs' if len(changed) == 1 else 'differ'} from the "
            f"settings of the run in {source}; --resume "
            "continues a run with its own settings (only --epochs may change). Leave them "
            "out, or start a new run with --out"
        )
    epochs = args.epochs if args.epochs is not None else config["epochs"]
    finished = (source / "report.md").exists()  # the last file a run writes
    if epochs < done or (epochs == done and finished):
        if not args.out or Path(args.out).resolve() == source.resolve():
            _tidy_finished_run(source)
        parser.error(
            f"the run in {source} has trained {run.plural(done, 'epoch')}; pass --epochs N "
            f"with N > {done} to continue it up to epoch N"
        )
    config["epochs"] = epochs
    out = Path(args.out) if args.out else source
    if out.resolve() != source.resolve():
        import shutil

        from deepgrad.train import parallel

        if parallel.is_main_process():  # one copy, then every rank reads it
            run.check_out_folder(out, args.overwrite)
            out.mkdir(parents=True, exist_ok=True)
            for name in ("checkpoint.safetensors", "config.json"):
                if (source / name).exists():
                    shutil.copy2(source / name, out / name)
        parallel.barrier()
    return config, out, done


def _tidy_finished_run(folder: Path) -> None:
    """A finished run killed while it let go of its folder: remove the stale lock and any
    temporary file (nothing happens while another process holds the lock)."""
    from deepgrad.train import run
    from deepgrad.train.checkpoint import clean_temp_files

    try:
        lock = run.RunLock(folder).acquire()
    except run.RunError:
        return
    clean_temp_files(folder)
    lock.release()


def _describe(config) -> str:
    from deepgrad.train.run import plural

    text = f"{config['model']} on {config['dataset']}"
    if config["model"] == "mlp":
        hidden = ",".join(map(str, config["hidden"])) or "none"
        text += f" (hidden {hidden}, {config['activation']})"
    opt = config["optimizer"]
    if opt == "momentum":
        opt += f" {config['momentum']}"
    opt += f" lr {config['lr']}"
    if config["lr_decay"] != 1.0:
        opt += f" (x{config['lr_decay']} per epoch)"
    return (
        f"{text}: {plural(config['epochs'], 'epoch')}, {opt}, batch {config['batch_size']}, "
        f"seed {config['seed']}"
    )


def _default_out(config) -> Path:
    name = config["dataset"]
    if name.startswith("csv:"):
        name = Path(name[4:]).stem
    return Path("runs") / f"{config['model']}-{name}-{time.strftime('%Y%m%d-%H%M%S')}"


# ----------------------------------------------------------------------------- evaluate
def cmd_evaluate(args, parser) -> int:
    from deepgrad.train import run
    from deepgrad.train.fit import evaluate, predict
    from deepgrad.train.metrics import classification_report, confusion_matrix

    config, data, model, loss_fn = run.load_run(args.run_dir, limit=args.limit)
    x, y = (data.x_test, data.y_test) if args.split == "test" else (data.x_train, data.y_train)
    result = evaluate(model, loss_fn, (x, run.targets(config, y)))
    cm = confusion_matrix(y, predict(model, x), len(data.classes))
    print(f"{config['model']} on {data.name}, {args.split} data ({len(x)} samples)")
    print(f"{args.split} accuracy {100 * result['accuracy']:.2f}%  (loss {result['loss']:.4f})")
    print()
    print(classification_report(cm, data.classes))
    return 0


# ----------------------------------------------------------------------------- predict
def cmd_predict(args, parser) -> int:
    import numpy as np

    from deepgrad import from_numpy
    from deepgrad.data.csv import read_samples
    from deepgrad.data.images import read_image
    from deepgrad.train import run
    from deepgrad.train.fit import predict
    from deepgrad.utils.outputs import class_probabilities

    config, model = run.load_trained_model(args.run_dir)
    path = Path(args.input)
    if not path.is_file():
        parser.error(
            f"INPUT {path} does not exist" + (" (it is a folder)" if path.is_dir() else "")
        )
    suffix = path.suffix.lower()
    shape = tuple(config["input_shape"])
    if suffix == ".png":
        if run.dataset_kind(config["dataset"]) != "images":
            parser.error(
                f"the run in {args.run_dir} was trained on {config['dataset']} "
                f"({shape[0]} features per sample); give a .csv file, not an image"
            )
        image, inverted = read_image(path, shape[-2:], args.invert, args.resize, args.max_pixels)
        x = from_numpy(image.reshape((1, *shape)).astype(np.float32))
    elif suffix == ".csv":
        rows = read_samples(
            path,
            int(np.prod(shape)),
            config.get("feature_names") or [],
            config.get("label_column"),
            pixels=run.dataset_kind(config["dataset"]) == "images",
        )
        x = from_numpy(rows.reshape((-1, *shape)))
    else:
        parser.error(f"INPUT must be a .png image or a .csv file, got {path.name}")
    scores = predict(model, run.normalize(x, config["normalization"]))._data
    if not np.all(np.isfinite(scores)):
        row = int(np.argmax(~np.isfinite(scores).all(axis=1))) + 1
        raise run.RunError(
            f"{path}: the model's output for sample {row} is not finite (NaN or infinity), so "
            "there is no prediction; check that sample's values, or the run's weights "
            f"(deepgrad evaluate {args.run_dir})"
        )
    prob = class_probabilities(scores)
    classes = config["classes"]
    if suffix == ".png":
        order = np.argsort(-prob[0])[: args.top]
        note = " (colours inverted: light background)" if inverted else ""
        print(f"{path.name}{note}: {classes[order[0]]} ({100 * prob[0, order[0]]:.1f}%)")
        for k in order[1:]:
            print(f"  then {classes[k]} ({100 * prob[0, k]:.1f}%)")
        return 0
    print("row,prediction,probability")
    for i, row in enumerate(prob):
        k = int(row.argmax())
        print(f"{i + 1},{classes[k]},{row[k]:.4f}")
    return 0


# ----------------------------------------------------------------------------- others
def cmd_datasets(args, parser) -> int:
    from deepgrad.data import datasets_info, format_datasets_info

    # The data sets deepgrad train takes; the playground's regression sets are not among them.
    info = [d for d in datasets_info() if d["name"] in TRAIN_DATASETS]
    print(format_datasets_info(info))
    print("\nand csv:PATH: a CSV file with a header row, one sample per row (--label-column)")
    return 0


def _zoo_model(args, parser):
    """A zoo model sized for ``args.dataset`` (images need no data files), and the input size."""
    from deepgrad.train import run

    config = run.resolve_config(
        {
            "model": args.model,
            "dataset": args.dataset,
            "hidden": args.hidden,
            "activation": args.activation,
        }
    )
    kind = run.dataset_kind(args.dataset)
    if kind == "images":
        shape, k = (1, 28, 28), 10
    elif kind == "points":
        shape, k = (2,), 2
    elif args.dataset == "iris":
        shape, k = (4,), 3
    else:
        x, _, _, classes = run.load_csv(args.dataset[4:], {})
        shape, k = tuple(x.shape[1:]), len(classes)
    return config, run.build_model(config, shape, k), shape, k


def cmd_summary(args, parser) -> int:
    from deepgrad.utils.summary import summary

    _, model, shape, _ = _zoo_model(args, parser)
    print(summary(model, (1, *shape)))
    return 0


def cmd_gradcheck(args, parser) -> int:
    import numpy as np

    import deepgrad
    from deepgrad.autograd import check_model
    from deepgrad.train.run import build_loss, targets

    config, model, shape, k = _zoo_model(args, parser)
    deepgrad.manual_seed(0)
    x = deepgrad.randn(4, *shape)
    y = targets(config, deepgrad.tensor(np.arange(4) % k))
    report = check_model(model, build_loss(config, model), x, y)
    print(report)
    return 0 if report else 1


# ----------------------------------------------------------------------------- export
def cmd_export(args, parser) -> int:
    from deepgrad.train.run import RunError

    try:
        from deepgrad.train.onnx_export import check_run, export_run
    except ImportError as e:
        raise RunError(
            f"ONNX export needs the onnx package: pip install deepgrad[onnx] ({e})"
        ) from None
    try:
        path = export_run(args.run_dir, args.out, args.opset)
    except (ValueError, RuntimeError) as e:  # an unsupported opset or op
        raise RunError(str(e)) from None
    print(f"wrote {path} (ONNX opset {args.opset or 17}, input normalisation included)")
    if not args.check:
        return 0
    try:
        r = check_run(args.run_dir, path, args.limit)
    except ImportError as e:
        raise RunError(f"--check needs onnxruntime: pip install deepgrad[onnx] ({e})") from None
    verdict = "OK" if r["ok"] else "MISMATCH"
    print(
        f"check with ONNX Runtime on {r['samples']} test samples: {verdict}, same class for "
        f"{r['same_class']}/{r['samples']}, largest difference {r['max_abs_diff']:.3g} "
        f"({r['max_rel_diff']:.3g} of the largest output)"
    )
    return 0 if r["ok"] else 1


def cmd_playground(argv) -> int:
    try:
        from deepgrad.playground import main as playground_main
    except ImportError as e:
        print(f"deepgrad playground: error: the playground is not available ({e})", file=sys.stderr)
        return 1
    return playground_main(argv) or 0


if __name__ == "__main__":  # pragma: no cover
    entry()
