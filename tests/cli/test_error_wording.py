"""One error, two spellings: Python callers read argument names (``val_split=0.9``), people at
the ``deepgrad`` command read flags (``--val-split 0.9``). And a closed pipe ends the command
quietly, as ``cat`` and ``grep`` do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepgrad import cli
from deepgrad.data.images import ImageError, read_image
from deepgrad.train import run
from deepgrad.utils.argnames import arg, command_line, on_command_line

SRC = Path(__file__).resolve().parents[1] / "src"


def test_arg_spells_python_names_and_cli_flags():
    assert (arg("val_split"), arg("val_split", 0.5)) == ("val_split=", "val_split=0.5")
    assert arg("dataset", "csv:d.csv") == "dataset='csv:d.csv'"
    with command_line():
        assert on_command_line()
        assert (arg("val_split"), arg("val_split", 0.5)) == ("--val-split", "--val-split 0.5")
        assert arg("dataset", "csv:d.csv") == "--dataset csv:d.csv"
    assert not on_command_line()


def test_command_line_spelling_ends_with_its_block_even_on_errors():
    with pytest.raises(ValueError), command_line():
        raise ValueError
    assert arg("max_pixels") == "max_pixels="


def _tiny_xor(**settings):
    return run.resolve_config({"model": "mlp", "dataset": "xor", "samples": 10, **settings})


def test_python_caller_reads_argument_names():
    with pytest.raises(run.RunError) as e:
        run.prepare(_tiny_xor(val_split=0.9))
    message = str(e.value)
    assert message.startswith("val_split=0.9: xor has 8 training samples")
    assert "use val_split=0 (no validation)" in message and "--" not in message


def test_cli_user_reads_flags(capsys, tmp_path):
    argv = ["train", "--model", "mlp", "--dataset", "xor", "--samples", "10", "--val-split",
            "0.9", "--out", str(tmp_path / "r"), "--quiet"]  # fmt: skip
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("deepgrad train: error: --val-split 0.9: xor has 8 training samples")
    assert "use --val-split 0 (no validation)" in err and "val_split=" not in err


def test_python_caller_reads_argument_names_for_the_run_folder(tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.tex").write_text("")
    with pytest.raises(run.RunError, match=r"^out='.*thesis' holds files .* pass overwrite=True"):
        run.check_out_folder(folder, overwrite=False)
    with pytest.raises(run.RunError, match=r"^resume=True, out='.*nowhere': no such run folder"):
        run.train(_tiny_xor(), tmp_path / "nowhere", resume=True)


def test_python_caller_reads_argument_names_for_images(tmp_path):
    import matplotlib.image as mpimg

    path = tmp_path / "wide.png"
    mpimg.imsave(path, np.zeros((28, 84)), cmap="gray")
    with pytest.raises(ImageError, match="or pass resize= to let deepgrad scale it"):
        read_image(path, (28, 28))
    with pytest.raises(ImageError, match="more than max_pixels=100 "):
        read_image(path, (28, 28), max_pixels=100)
    image, inverted = read_image(path, (28, 28), resize=True)
    assert image.shape == (28, 28) and not inverted


def test_closed_pipe_ends_the_command_quietly():
    # `deepgrad datasets | head -0`: the reader is gone before the command writes anything.
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = dict(os.environ, PYTHONPATH=str(SRC))
    try:
        p = subprocess.run(
            [sys.executable, "-m", "deepgrad.cli", "datasets"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert p.returncode == 141, p.stderr  # 128 + SIGPIPE, as the shell reports it
    assert p.stderr == ""
