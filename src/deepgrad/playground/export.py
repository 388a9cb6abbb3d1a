"""Export a playground session: a standalone deepgrad script and the trained weights.

The script rebuilds the same data (the toy generator with the same arguments, or the uploaded
CSV written into the script), the same features, the same ``nn.Sequential`` and the same
training loop, so ``python playground_model.py`` trains the network again from scratch, and
``--weights playground_model.safetensors`` loads the weights trained in the page with
``model.load_state_dict``. The weights file's keys are exactly the model's ``state_dict`` keys
(``0.weight``, ``0.bias``, ``2.weight``, ...); it is written with ``safetensors.numpy``, never
pickle, and carries the settings as JSON metadata.
"""

from __future__ import annotations

import json

import numpy as np

from deepgrad.playground.session import FEATURE_CODE
from deepgrad.playground.validation import FEATURE_LABELS, N_POINTS, n_train_points
from deepgrad.registry import ACTIVATIONS, OPTIMIZERS

SCRIPT_NAME = "playground_model.py"
WEIGHTS_NAME = "playground_model.safetensors"


def _optimizer_code(name: str) -> str:
    """``optim.SGD(model.parameters(), lr=LR, momentum=0.9)``: the registry's optimiser as
    PyTorch code."""
    cls, defaults = OPTIMIZERS[name]
    extra = "".join(f", {k}={v!r}" for k, v in defaults.items())
    return f"optim.{cls}(model.parameters(), lr=LR{extra})"


def weights_bytes(state: dict) -> bytes:
    """The trained ``state_dict`` as safetensors bytes, with the settings as metadata."""
    from safetensors.numpy import save

    tensors = {k: np.ascontiguousarray(v) for k, v in state["state_dict"].items()}
    metadata = {
        "format": "deepgrad-playground",
        "config": json.dumps(state["config"].to_json()),
        "epoch": str(state["epoch"]),
        "task": state["task"],
    }
    return save(tensors, metadata=metadata)


def _num(v) -> str:
    # The shortest text that reads back as the same float32.
    return str(np.float32(v))


def _csv_block(table) -> list[str]:
    """The uploaded data written into the script: x1,x2,label rows (labels as class indices)."""
    lines = ["# The uploaded CSV, as x1,x2,label rows."]
    if table.task == "classification":
        lines.append(f"CLASS_NAMES = {table.class_names!r}  # label i in DATA is CLASS_NAMES[i]")
        labels = [str(int(v)) for v in table.y]
    else:
        labels = [_num(v) for v in table.y]
    rows = "\n".join(f"{_num(a)},{_num(b)},{c}" for (a, b), c in zip(table.x, labels))
    lines.append(f'DATA = """\\\n{rows}\n"""')
    return lines


def _load_data_code(config, table, task: str) -> list[str]:
    label_dtype = "np.int64" if task == "classification" else "np.float32"
    if table is not None:
        n_total = len(table.y)
        head = [
            "def load_data():",
            '    """Uploaded points, split into (x_train, y_train, x_test, y_test) tensors."""',
            '    rows = [line.split(",") for line in DATA.splitlines()]',
            "    x = np.array([[float(a), float(b)] for a, b, _ in rows], dtype=np.float32)",
            f"    y = np.array([float(c) for _, _, c in rows]).astype({label_dtype})",
        ]
    else:
        n_total = N_POINTS
        extra = f", n_classes={config.n_classes}" if config.dataset == "spiral" else ""
        head = [
            "def load_data():",
            '    """Generated points, split into (x_train, y_train, x_test, y_test) tensors."""',
            f"    x, y = toy.{config.dataset}({N_POINTS}, noise={config.noise / 100.0!r}, "
            f"seed=SEED{extra})",
            "    x = np.asarray(x, dtype=np.float32)",
            f"    y = np.asarray(y).astype({label_dtype})",
        ]
    reshape = ".reshape(-1, 1)" if task == "regression" else ""
    return head + [
        "    perm = np.random.default_rng(SEED).permutation(len(x))",
        f"    n_train = {n_train_points(n_total, config.train_ratio)}"
        f"  # {config.train_ratio:g} % of {n_total} points",
        "    train, test = perm[:n_train], perm[n_train:]",
        "    return (",
        "        torch.from_numpy(x[train]),",
        f"        torch.from_numpy(y[train]{reshape}),",
        "        torch.from_numpy(x[test]),",
        f"        torch.from_numpy(y[test]{reshape}),",
        "    )",
    ]


def _model_code(config, n_out: int) -> list[str]:
    act = ACTIVATIONS[config.activation]
    lines = [
        "def build_model():",
        '    """The network drawn in the page."""',
        "    return nn.Sequential(",
    ]
    width = len(config.features)
    for h in config.hidden:
        lines += [f"        nn.Linear({width}, {h}),", f"        nn.{act}(),"]
        width = h
    lines += [f"        nn.Linear({width}, {n_out}),", "    )"]
    return lines


def render_script(state: dict) -> str:
    """The text of a standalone deepgrad script that rebuilds the session's network and run."""
    config, task, epoch = state["config"], state["task"], state["epoch"]
    table = state["csv"]
    n_out = state["n_classes"] if task == "classification" else 1
    regularised = config.regularization != "none" and config.reg_rate > 0
    criterion = "nn.CrossEntropyLoss()" if task == "classification" else "nn.MSELoss()"
    if table is not None:
        data_desc = f"the uploaded CSV ({len(table.y)} points, {task})"
    else:
        classes = f"{config.n_classes} classes, " if config.dataset == "spiral" else ""
        data_desc = f"{config.dataset} ({classes}noise {config.noise:g} %, {N_POINTS} points)"
    widths = " -> ".join(str(w) for w in (len(config.features), *config.hidden, n_out))
    reg_desc = (
        f"{config.regularization.upper()} penalty with rate {config.reg_rate:g}"
        if regularised
        else "no regularisation"
    )
    feature_list = ", ".join(FEATURE_LABELS[f] for f in config.features)
    out = [
        '"""A network trained in the deepgrad Playground, rebuilt as a plain deepgrad script.',
        "",
        f"Data: {data_desc}; {config.train_ratio:g} % for training; seed {config.seed}.",
        f"Features: {feature_list}.",
        f"Network: {widths} ({config.activation} between layers), {criterion[3:-2]}.",
        f"Training: {config.optimizer}, learning rate {config.lr:g}, batch size "
        f"{config.batch_size}, {reg_desc}.",
        f"Exported after {epoch} epoch{'' if epoch == 1 else 's'}.",
        "",
        f"    python {SCRIPT_NAME}                  # train from scratch for EPOCHS epochs",
        f"    python {SCRIPT_NAME} --weights {WEIGHTS_NAME}",
        "                                          # load the weights trained in the page",
        f"    python {SCRIPT_NAME} --weights {WEIGHTS_NAME} --epochs 100",
        "                                          # load them and train on",
        "",
        "Training from scratch repeats the page's run exactly when no setting was changed while",
        "it trained (the page applies a new learning rate, batch size or penalty on the fly).",
        "Needs deepgrad, and the safetensors package for --weights.",
        '"""',
        "",
        "import argparse",
        "",
        "import numpy as np",
        "",
        "import deepgrad as torch",
        "from deepgrad import nn, optim",
    ]
    if table is None:
        out.append("from deepgrad.data import toy")
    out += [
        "",
        f"SEED = {config.seed}",
        f"EPOCHS = {epoch}",
        f"BATCH_SIZE = {config.batch_size}",
        f"LR = {config.lr!r}",
    ]
    if regularised:
        out.append(f"REG_RATE = {config.reg_rate!r}  # {config.regularization.upper()} penalty")
    out.append("")
    if table is not None:
        out += _csv_block(table) + [""]
    out += [""] + _load_data_code(config, table, task) + ["", ""]
    exprs = ", ".join(FEATURE_CODE[f] for f in config.features)
    out += [
        "def features(x):",
        '    """The network\'s inputs: the chosen features of the points x (n, 2)."""',
        "    x1, x2 = x[:, 0], x[:, 1]",
        f"    return torch.stack([{exprs}], dim=1)",
        "",
        "",
    ]
    out += _model_code(config, n_out) + ["", ""]
    out += [
        f"criterion = {criterion}",
        "",
        "",
        "def train(model, x_train, y_train, epochs, log_every=10):",
        '    """Minibatch training, batches drawn from a seeded permutation every epoch."""',
        f"    optimizer = {_optimizer_code(config.optimizer)}",
        "    rng = np.random.default_rng([1, SEED])",
        "    n = x_train.shape[0]",
        "    for epoch in range(1, epochs + 1):",
        "        perm = rng.permutation(n)",
        "        for i in range(0, n, BATCH_SIZE):",
        "            idx = perm[i : i + BATCH_SIZE]",
        "            loss = criterion(model(x_train[idx]), y_train[idx])",
    ]
    if regularised:
        out.append(
            f"            loss = loss + REG_RATE * nn.utils.{config.regularization}_penalty(model)"
            "  # weights, not biases"
        )
    out += [
        "            optimizer.zero_grad()",
        "            loss.backward()",
        "            optimizer.step()",
        "        if epoch % log_every == 0 or epoch == epochs:",
        "            train_loss = evaluate(model, x_train, y_train)[0]",
        '            print(f"epoch {epoch}: train loss {train_loss:.4f}")',
        "",
        "",
        "def evaluate(model, x, y):",
        '    """(loss, accuracy) on features x and labels y; accuracy is None for regression."""',
        "    with torch.no_grad():",
        "        out = model(x)",
        "        loss = criterion(out, y).item()",
    ]
    if task == "classification":
        out.append("        accuracy = (out.argmax(dim=1) == y).float().mean().item()")
    else:
        out.append("        accuracy = None")
    out += [
        "    return loss, accuracy",
        "",
        "",
        "def load_weights(model, path):",
        '    """Load weights saved by the playground (safetensors) with load_state_dict."""',
        "    from safetensors.numpy import load_file",
        "",
        "    model.load_state_dict({k: torch.from_numpy(v) for k, v in load_file(path).items()})",
        "",
        "",
        "def main(argv=None):",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        '    parser.add_argument("--weights", help="a .safetensors file exported by the page")',
        "    parser.add_argument(",
        '        "--epochs", type=int, help="epochs to train (default EPOCHS; 0 with --weights)"',
        "    )",
        "    args = parser.parse_args(argv)",
        "    x_train, y_train, x_test, y_test = load_data()",
        "    x_train, x_test = features(x_train), features(x_test)",
        "    torch.manual_seed(SEED)",
        "    model = build_model()",
        "    epochs = EPOCHS if args.epochs is None else args.epochs",
        "    if args.weights:",
        "        load_weights(model, args.weights)",
        "        epochs = 0 if args.epochs is None else args.epochs",
        "    train(model, x_train, y_train, epochs)",
        "    for name, (x, y) in {",
        '        "train": (x_train, y_train),',
        '        "test": (x_test, y_test),',
        "    }.items():",
        "        loss, accuracy = evaluate(model, x, y)",
        '        extra = "" if accuracy is None else f", accuracy {accuracy:.3f}"',
        '        print(f"{name} loss {loss:.4f}{extra}")',
        "    return model",
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    return "\n".join(out) + "\n"
