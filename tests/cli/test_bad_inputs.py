"""Bad inputs, one test per class of the break-it report (issue 15): the command line, the
Python API and (in test_playground_server.py) the playground.

Each CLI case runs ``deepgrad`` in a subprocess under an address-space limit (2 GiB) and a
time limit, and asserts the exit status, the one-paragraph message (no traceback) and that the
files that were there before are untouched. The oracle of the "correct result" cases is the
input itself (the classes present, the rows in the file).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from deepgrad import cli
from deepgrad.data import csv_dataset
from deepgrad.data.csv import CSVError
from deepgrad.data.idx import IDXError, read_idx
from deepgrad.train.checkpoint import CheckpointError

MEMORY_LIMIT = 2 * 2**30
TIME_LIMIT = 120


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def deepgrad(*argv, cwd=None):
    """``deepgrad ARGV`` in a subprocess under the limits: (status, stdout, stderr)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    p = subprocess.run(
        [sys.executable, "-m", "deepgrad.cli", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        preexec_fn=_limits,
        env=env,
        cwd=cwd,
    )
    return p.returncode, p.stdout, p.stderr


def snapshot(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_paragraph(err: str, status: int = 1) -> str:
    assert "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if status == 1:
        assert len(lines) == 1 and lines[0].startswith("deepgrad "), err
    return err


def write_csv(path: Path, header, rows) -> Path:
    lines = ([",".join(header)] if header else []) + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return [(f"{a:.4f}", f"{b:.4f}", "yes" if a > 0 else "no") for a, b in x]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run on a small table (features a, b; label answer)."""
    root = tmp_path_factory.mktemp("trained")
    csv = write_csv(root / "t.csv", ["a", "b", "answer"], table())
    out = root / "run"
    code = cli.main(["train", "--model", "mlp", "--dataset", f"csv:{csv}", "--hidden", "8",
                     "--epochs", "2", "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    return out


@pytest.fixture
def run_copy(trained, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(trained, out)
    return out


# ------------------------------------------------------------------ tracebacks before
def test_out_pointing_at_a_file(tmp_path):
    target = write_csv(tmp_path / "t.csv", ["a", "b", "answer"], table())
    before = snapshot(tmp_path)
    code, _, err = deepgrad("train", "--model", "mlp", "--dataset", "xor", "--out", target)
    assert code == 1 and f"--out {target} is a file" in one_paragraph(err)
    assert snapshot(tmp_path) == before
    from deepgrad.train import run

    config = run.resolve_config({"model": "mlp", "dataset": "xor"})
    with pytest.raises(run.RunError, match="is a file"):
        run.train(config, target)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seed", "-5"], "--seed: must be in 0..4,294,967,295, got -5"),
        (["--epochs", "10000000"], "--epochs: must be in 1..100,000"),
        (["--lr", "nan"], "--lr: must be a finite number"),
        (["--val-split", "0.95"], "--val-split: must be in [0, 0.9]"),
        (["--hidden", "10000000"], "layer sizes in 1..65536"),
        (["--samples", "3"], "--samples: must be in 10..10,000,000"),
    ],
)
def test_every_cli_argument_is_range_checked(argv, message):
    code, _, err = deepgrad("train", "--model", "mlp", "--dataset", "xor", *argv)
    assert code == 2 and message in one_paragraph(err, 2)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("1", "2", "yes")], "1 sample; training needs at least 10"),
        ([(str(i), str(i), "same") for i in range(20)], "holds one class only ('same')"),
    ],
)
def test_one_row_or_one_class_csv(tmp_path, rows, message):
    csv = write_csv(tmp_path / "d.csv", ["a", "b", "answer"], rows)
    code, _, err = deepgrad("train", "--model", "mlp", "--dataset", f"csv:{csv}",
                            "--out", tmp_path / "r")  # fmt: skip
    assert code == 1 and message in one_paragraph(err)
    assert not (tmp_path / "r").exists()


def test_header_only_csv_to_predict(run_copy, tmp_path):
    before = snapshot(run_copy)
    csv = write_csv(tmp_path / "p.csv", ["a", "b"], [])
    code, _, err = deepgrad("predict", run_copy, csv)
    assert code == 1 and "has a header ['a', 'b'] but no data rows" in one_paragraph(err)
    assert snapshot(run_copy) == before


def test_damaged_run_metadata(run_copy):
    (run_copy / "config.json").write_text('{"model": "mlp", "dataset": ')
    before = snapshot(run_copy)
    code, _, err = deepgrad("evaluate", run_copy)
    assert code == 1 and "config.json is not valid JSON" in one_paragraph(err)
    ckpt = run_copy / "checkpoint.safetensors"
    raw = bytearray(ckpt.read_bytes())
    raw[40] ^= 0x01  # inside the JSON header
    ckpt.write_bytes(bytes(raw))
    before = snapshot(run_copy)
    code, _, err = deepgrad("train", "--resume", run_copy, "--epochs", "3")
    assert code == 1 and "checkpoint.safetensors" in one_paragraph(err)
    assert "damaged" in err or "not a valid safetensors file" in err
    assert snapshot(run_copy) == before


# ------------------------------------------------------------------ silent wrong results before
@pytest.mark.parametrize(
    "header, rows, message",
    [
        (["p", "q"], [(1, 2)], "do not match the features the model was trained on, ['a', 'b']"),
        (["a", "b", "extra"], [(1, 2, 3)], "not used in training ['extra']"),
        (["b", "a"], [("nan", 1)], "column 'b' holds 'nan', not a finite number"),
        (None, [(1, 2)], "has no header row; add one naming the columns ['a', 'b']"),
    ],
)
def test_predict_csv_columns_are_matched_by_name(run_copy, tmp_path, header, rows, message):
    before = snapshot(run_copy)
    csv = write_csv(tmp_path / "p.csv", header, rows)
    code, _, err = deepgrad("predict", run_copy, csv)
    assert code == 1 and message in one_paragraph(err)
    assert snapshot(run_copy) == before


def test_predict_csv_in_another_column_order_gives_the_same_predictions(run_copy, tmp_path):
    rows = [(0.5, -1.0), (-2.0, 0.3), (1.5, 1.5)]
    code1, out1, _ = deepgrad("predict", run_copy, write_csv(tmp_path / "1.csv", ["a", "b"], rows))
    swapped = [(b, a) for a, b in rows]
    code2, out2, _ = deepgrad(
        "predict", run_copy, write_csv(tmp_path / "2.csv", ["b", "a"], swapped)
    )
    assert code1 == code2 == 0 and out1 == out2


def test_labels_one_and_two_are_two_classes(tmp_path):
    rows = [(f"{v:.3f}", 1 if v < 0 else 2) for v in np.linspace(-1, 1, 40)]
    csv = write_csv(tmp_path / "d.csv", ["x", "label"], rows)
    code, _, err = deepgrad("train", "--model", "softmax", "--dataset", f"csv:{csv}",
                            "--epochs", "1", "--out", tmp_path / "r", "--quiet")  # fmt: skip
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["classes"] == ["1", "2"]
    ds = csv_dataset(csv)
    assert ds.classes == [1, 2] and set(ds.tensors[1].numpy().tolist()) == {0, 1}


def test_headerless_csv_keeps_its_first_row(tmp_path):
    rows = table(40)
    csv = write_csv(tmp_path / "d.csv", None, rows)
    ds = csv_dataset(csv)
    assert len(ds) == 40 and ds.feature_names == ["column 0", "column 1"]
    np.testing.assert_array_equal(ds.tensors[0].numpy()[0], np.float32(rows[0][:2]))
    code, _, err = deepgrad("train", "--model", "mlp", "--dataset", f"csv:{csv}",
                            "--epochs", "1", "--out", tmp_path / "r", "--quiet")  # fmt: skip
    assert code == 0, err
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["train_samples"] + m["val_samples"] + m["test_samples"] == 40


def test_bit_flipped_weights_are_refused(run_copy, tmp_path):
    model = run_copy / "model.safetensors"
    raw = bytearray(model.read_bytes())
    raw[-3] ^= 0x40  # a bit of the last tensor's data
    model.write_bytes(bytes(raw))
    before = snapshot(run_copy)
    csv = write_csv(tmp_path / "p.csv", ["a", "b"], [(1, 2)])
    code, _, err = deepgrad("predict", run_copy, csv)
    assert code == 1 and "is damaged: the checksum of the data of tensor" in one_paragraph(err)
    assert snapshot(run_copy) == before


def test_optimizer_state_with_an_absurd_learning_rate_is_refused(run_copy):
    from deepgrad.train.checkpoint import read_checkpoint, save_checkpoint
    from deepgrad.train.run import load_config, prepare

    state, meta = read_checkpoint(run_copy)
    config = load_config(run_copy)
    _, model, _, opt = prepare(dict(config))
    opt.param_groups[0]["lr"] = 1e9
    save_checkpoint(run_copy, model, opt, epoch=meta["epoch"], extra=meta["extra"])
    before = snapshot(run_copy)
    code, _, err = deepgrad("train", "--resume", run_copy, "--epochs", "3")
    assert code == 1 and "lr=1000000000.0 in param group 0" in one_paragraph(err)
    assert snapshot(run_copy) == before


def test_nan_features_are_refused_unless_asked(tmp_path):
    rows = table(30)
    rows[4] = ("nan", rows[4][1], rows[4][2])
    csv = write_csv(tmp_path / "d.csv", ["a", "b", "answer"], rows)
    code, _, err = deepgrad("train", "--model", "mlp", "--dataset", f"csv:{csv}")
    assert code == 1
    assert "line 6, column 'a' holds 'nan'" in one_paragraph(err) and "--allow-nonfinite" in err
    with pytest.raises(CSVError, match="allow_nonfinite=True"):
        csv_dataset(csv)
    assert np.isnan(csv_dataset(csv, allow_nonfinite=True).tensors[0].numpy()[4, 0])


# ------------------------------------------------------------------ resource exhaustion before
def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A small PNG file whose header announces a huge image (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 100_000)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))  # fmt: skip
    return path


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """A fake image run: a softmax model over 28x28 images (predict needs no data set)."""
    from deepgrad.train import run
    from deepgrad.train.checkpoint import save_model

    out = tmp_path_factory.mktemp("images") / "run"
    out.mkdir()
    config = run.resolve_config({"model": "softmax", "dataset": "fashion-mnist"})
    config.update(classes=[f"c{i}" for i in range(10)], input_shape=[1, 28, 28],
                  normalization={"mean": 0.5, "std": 0.25}, feature_names=[])  # fmt: skip
    (out / "config.json").write_text(json.dumps(config))
    save_model(run.build_model(config, (1, 28, 28), 10), out / "model.safetensors")
    return out


def test_png_of_another_size_is_refused_unless_resize(image_run, tmp_path):
    import matplotlib.image as mpimg

    mpimg.imsave(tmp_path / "wide.png", np.random.default_rng(0).random((28, 84)), cmap="gray")
    code, _, err = deepgrad("predict", image_run, tmp_path / "wide.png")
    assert code == 1
    assert "is 84x28 pixels, but the model was trained on 28x28 images" in one_paragraph(err)
    code, out, err = deepgrad("predict", image_run, tmp_path / "wide.png", "--resize")
    assert code == 0 and out.startswith("wide.png"), err


def test_png_announcing_a_huge_image_is_refused_before_decoding(image_run, tmp_path):
    bomb = _png_header_only(tmp_path / "bomb.png", 30000, 30000)
    assert bomb.stat().st_size < 2000
    code, _, err = deepgrad("predict", image_run, bomb, "--resize")
    assert code == 1 and "is 30000x30000 pixels, more than --max-pixels 16777216" in err
    one_paragraph(err)


def test_label_column_with_zero_and_a_billion_is_two_classes(tmp_path):
    rows = [(f"{v:.3f}", 0 if v < 0 else 1_000_000_000) for v in np.linspace(-1, 1, 40)]
    csv = write_csv(tmp_path / "d.csv", ["x", "label"], rows)
    code, _, err = deepgrad("train", "--model", "softmax", "--dataset", f"csv:{csv}",
                            "--epochs", "1", "--out", tmp_path / "r", "--quiet")  # fmt: skip
    assert code == 0, err
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["classes"] == ["0", "1000000000"]


def test_label_column_with_too_many_classes_suggests_another(tmp_path):
    rows = [(i % 3, f"{0.01 * i:.2f}", i) for i in range(1500)]
    csv = write_csv(tmp_path / "d.csv", ["kind", "x", "id"], rows)
    code, _, err = deepgrad("train", "--model", "mlp", "--dataset", f"csv:{csv}")
    assert code == 1 and "holds 1,500 distinct values, more than --max-classes=1000" in err
    assert "'kind' (3 values); choose one with --label-column" in one_paragraph(err)
    with pytest.raises(CSVError, match="more than max_classes=1000"):
        csv_dataset(csv)


def test_huge_field_and_bytes_that_are_not_utf8(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("a,b\n1,2\n3," + "9" * (2 << 20) + "\n")
    code, _, err = deepgrad("train", "--model", "mlp", "--dataset", f"csv:{big}")
    assert code == 1 and "line 3" in one_paragraph(err) and "1,048,576 bytes" in err
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,b\n1,caf\xe9\n".encode("latin-1"))
    code, _, err = deepgrad("train", "--model", "mlp", "--dataset", f"csv:{latin}")
    assert code == 1 and "line 2 holds bytes that are not UTF-8" in one_paragraph(err)


def test_idx_header_announcing_more_than_the_file_does_not_allocate(tmp_path):
    p = tmp_path / "images.idx"
    p.write_bytes(bytes.fromhex("00000803 00000010 00000100 00000100") + b"\0" * 64)
    with pytest.raises(IDXError, match="truncated"):
        read_idx(p)
    with pytest.raises(IDXError, match="more than the limit of 1,000 bytes"):
        read_idx(p, max_bytes=1000)


def test_download_stops_at_the_byte_limit(tmp_path, monkeypatch):
    import io
    import urllib.request

    from deepgrad.data import download

    class Endless(io.RawIOBase):
        headers = {}

        def read(self, n=-1):
            return b"x" * 65536

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Endless())
    with pytest.raises(download.DownloadError, match="more than 1,000,000 bytes"):
        download.fetch("http://x/f.gz", tmp_path / "f.gz", None, 1.0, False, max_bytes=1_000_000)
    assert list(tmp_path.iterdir()) == []  # nothing kept


def test_checkpoint_larger_than_the_limit_is_refused_before_reading(run_copy):
    from deepgrad.train.checkpoint import read_checkpoint

    with pytest.raises(CheckpointError, match="more than the limit of 100"):
        read_checkpoint(run_copy, max_bytes=100)


def test_evaluate_refuses_data_whose_classes_changed(run_copy, tmp_path):
    csv = write_csv(tmp_path / "other.csv", ["a", "b", "answer"],
                    [(a, b, "maybe" if c == "yes" else c) for a, b, c in table()])  # fmt: skip
    config = json.loads((run_copy / "config.json").read_text())
    config["data_paths"] = {"csv": str(csv)}
    (run_copy / "config.json").write_text(json.dumps(config))
    before = snapshot(run_copy)
    code, _, err = deepgrad("evaluate", run_copy)
    assert code == 1 and "classes ['maybe', 'no'] (trained with ['no', 'yes'])" in err
    one_paragraph(err)
    assert snapshot(run_copy) == before


def test_delimiter_and_header_are_detected(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("height;weight;kind\n1,5;60;cat\n2;80;dog\n")  # ';' with a decimal comma cell
    with pytest.raises(CSVError, match=r"line 2, column 'height' holds '1,5', not a number"):
        csv_dataset(p)
    p.write_text("height;weight;kind\n1.5;60;cat\n2;80;dog\n")
    ds = csv_dataset(p)
    assert ds.feature_names == ["height", "weight"] and ds.classes == ["cat", "dog"]
    tabs = tmp_path / "tabs.csv"
    tabs.write_text("1.5\t60\tcat\n2\t80\tdog\n")
    ds = csv_dataset(tabs)
    assert len(ds) == 2 and ds.feature_names == ["column 0", "column 1"]
