"""MNIST/FashionMNIST: where the files are found, the download path (against a local HTTP
server on 127.0.0.1) and the data set's samples and batches."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.data import (
    MNIST,
    DataLoader,
    DatasetNotFoundError,
    FashionMNIST,
    IDXError,
    datasets_info,
    format_datasets_info,
    write_idx,
)
from deepgrad.data import download as dl
from deepgrad.data import mnist as mn

STEMS = mn.ALL_FILES


def make_files(folder: Path, marker: int, n_train=6, n_test=4, gz=True, dotted=False) -> Path:
    """The four IDX files of a tiny data set whose labels are all ``marker``."""
    folder.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(marker)
    arrays = {
        "train-images-idx3-ubyte": g.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.full(n_train, marker, np.uint8),
        "t10k-images-idx3-ubyte": g.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.full(n_test, marker, np.uint8),
    }
    for stem, a in arrays.items():
        name = stem.replace("-idx", ".idx") if dotted else stem
        write_idx(folder / (name + (".gz" if gz else "")), a)
    return folder


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Empty DEEPGRAD_DATA, cache and Debian folders (nothing else is looked at)."""
    p = {
        "env": tmp_path / "env",
        "cache": tmp_path / "xdg",
        "debian": tmp_path / "debian",
        "root": tmp_path / "root",
    }
    monkeypatch.setenv("DEEPGRAD_DATA", str(p["env"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(p["cache"]))
    monkeypatch.setattr(FashionMNIST, "debian_dir", str(p["debian"]))
    # the fake files written here are not the published ones: no MD5 check
    monkeypatch.setattr(mn, "_check_local_files", lambda cls, files, source: None)
    # a download must never reach the internet from the tests
    monkeypatch.setattr(FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])
    return p


def _marker(ds) -> int:
    return int(ds.targets[0])


# ------------------------------------------------------------------ search order
def test_search_order_env_then_cache_then_debian(places):
    make_files(places["debian"], 3)
    ds = FashionMNIST(download=False)
    assert _marker(ds) == 3 and ds.source == "debian"
    make_files(places["cache"] / "deepgrad" / "fashion-mnist", 2)
    ds = FashionMNIST(download=False)
    assert _marker(ds) == 2 and ds.source == "cache"
    make_files(places["env"], 1)
    ds = FashionMNIST(download=False)
    assert _marker(ds) == 1 and ds.source == "DEEPGRAD_DATA"
    # an explicit root comes first of all
    make_files(places["root"] / "FashionMNIST" / "raw", 4)
    ds = FashionMNIST(root=places["root"], download=False)
    assert _marker(ds) == 4 and ds.source == "root"


def test_deepgrad_data_subfolders_win_over_files_directly_in_it(places):
    make_files(places["env"], 1)
    make_files(places["env"] / "fashion-mnist", 5)
    make_files(places["env"] / "mnist", 6)
    assert _marker(FashionMNIST(download=False)) == 5
    assert _marker(MNIST(download=False)) == 6


@pytest.mark.parametrize("sub", ["fashion-mnist", "FashionMNIST/raw", "FashionMNIST"])
def test_deepgrad_data_subfolder_layouts(places, sub):
    make_files(places["env"] / sub, 7, gz=False)
    ds = FashionMNIST(download=False, train=False)
    assert _marker(ds) == 7 and len(ds) == 4
    assert Path(ds.folder) == places["env"] / sub


def test_several_folders_in_deepgrad_data(places, monkeypatch, tmp_path):
    make_files(tmp_path / "second", 8)
    monkeypatch.setenv("DEEPGRAD_DATA", f"{tmp_path / 'missing'}:{tmp_path / 'second'}")
    assert _marker(FashionMNIST(download=False)) == 8


def test_raw_and_dotted_file_names(places):
    make_files(places["cache"] / "deepgrad" / "mnist", 9, gz=False, dotted=True)
    ds = MNIST(download=False)
    assert _marker(ds) == 9 and ds.source == "cache"


def test_incomplete_folder_is_skipped_and_reported(places):
    make_files(places["env"], 1)
    (places["env"] / "t10k-labels-idx1-ubyte.gz").unlink()
    make_files(places["debian"], 3)
    ds = FashionMNIST(download=False)
    assert _marker(ds) == 3
    info = {d["name"]: d for d in datasets_info()}["fashion-mnist"]
    assert any("missing t10k-labels-idx1-ubyte" in line for line in info["searched"])


def test_mnist_never_uses_the_fashion_debian_folder(places):
    make_files(places["debian"], 3)
    assert MNIST.debian_dir is None
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(download=False)
    assert str(places["debian"]) not in str(info.value)


def test_nothing_found_lists_every_place_and_the_fixes(places):
    with pytest.raises(DatasetNotFoundError) as info:
        FashionMNIST(root=places["root"], download=False)
    msg = str(info.value)
    for folder in ("root", "env", "debian"):
        assert str(places[folder]) in msg
    assert str(places["cache"] / "deepgrad" / "fashion-mnist") in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "DEEPGRAD_DATA" in msg
    assert "download=False" in msg
    assert "train-images-idx3-ubyte.gz" in msg


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mn.cache_dir() == tmp_path / "deepgrad"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: absolute only
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mn.cache_dir() == tmp_path / "home" / ".cache" / "deepgrad"


def test_datasets_info(places):
    make_files(places["cache"] / "deepgrad" / "fashion-mnist", 2)
    info = {d["name"]: d for d in datasets_info()}
    assert info["fashion-mnist"]["available"] and info["fashion-mnist"]["source"] == "cache"
    assert info["fashion-mnist"]["location"] == str(places["cache"] / "deepgrad" / "fashion-mnist")
    assert not info["mnist"]["available"] and info["mnist"]["location"] is None
    assert info["iris"]["available"] and Path(info["iris"]["location"]).name == "iris.csv"
    for toy in ("circle", "xor", "gauss", "spiral", "moons", "plane", "multi_gauss"):
        assert info[toy]["available"]
    text = format_datasets_info()
    assert "fashion-mnist" in text and "not found" in text and "mnist" in text


# ------------------------------------------------------------------ the data set itself
def test_samples_batches_and_tensors(places):
    make_files(places["env"], 5, n_train=13)
    ds = FashionMNIST(download=False)
    raw = np.asarray(ds.data.numpy())
    x, y = ds.tensors()
    expected = torch.from_numpy(raw.copy()).float().div(255).unsqueeze(1).numpy()
    np.testing.assert_array_equal(x.numpy(), expected)
    assert x.dtype == deepgrad.float32 and y.dtype == deepgrad.int64
    # the fast path (no transform) and the per-sample path give the same batches
    deepgrad.manual_seed(1)
    fast = list(DataLoader(ds, batch_size=4, shuffle=True))
    slow_ds = FashionMNIST(download=False, transform=lambda t: t)
    deepgrad.manual_seed(1)
    slow = list(DataLoader(slow_ds, batch_size=4, shuffle=True))
    assert len(fast) == len(slow) == 4
    for (a, b), (c, d) in zip(fast, slow):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert a.dtype == c.dtype == deepgrad.float32 and b.dtype == d.dtype == deepgrad.int64
        assert tuple(a.shape[1:]) == (1, 28, 28)


def test_transforms_are_applied(places):
    make_files(places["env"], 5)
    ds = FashionMNIST(download=False, transform=lambda t: t * 2, target_transform=str)
    img, label = ds[0]
    np.testing.assert_array_equal(img.numpy(), FashionMNIST(download=False)[0][0].numpy() * 2)
    assert label == "5"


def test_images_and_labels_must_agree(places):
    folder = make_files(places["env"], 5)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))  # 6 images
    with pytest.raises(IDXError, match="6 images but .* 5 labels"):
        FashionMNIST(download=False)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.full(6, 10, np.uint8))
    with pytest.raises(IDXError, match="label 10 is out of range"):
        FashionMNIST(download=False)
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((6, 32, 32), np.uint8))
    with pytest.raises(IDXError, match="32x32"):
        FashionMNIST(download=False)


def test_corrupt_file_in_a_search_place_is_an_error_not_skipped(places):
    folder = make_files(places["env"], 5)
    make_files(places["debian"], 3)
    p = folder / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-20])
    with pytest.raises(IDXError, match="train-images-idx3-ubyte.gz"):
        FashionMNIST(download=False)


# ------------------------------------------------------------------ download
@pytest.fixture
def server(tmp_path):
    """A static HTTP server on 127.0.0.1 serving ``tmp_path / 'www'``."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(www))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _resources(folder: Path):
    return [
        (name + ".gz", hashlib.md5((folder / (name + ".gz")).read_bytes()).hexdigest())
        for name in STEMS
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_into_the_cache_with_md5_check(places, server, monkeypatch):
    www, url = server
    make_files(www, 4)
    monkeypatch.setattr(FashionMNIST, "resources", _resources(www))
    dead = f"http://127.0.0.1:{_free_port()}/"
    monkeypatch.setattr(FashionMNIST, "mirrors", [dead, url])  # first mirror is down
    ds = FashionMNIST(train=False)
    target = places["cache"] / "deepgrad" / "fashion-mnist"
    assert ds.source == "download" and Path(ds.folder) == target
    assert _marker(ds) == 4 and len(ds) == 4
    for name in STEMS:
        assert (target / (name + ".gz")).read_bytes() == (www / (name + ".gz")).read_bytes()
    assert not list(target.glob(".*part*"))  # no temporary files left
    # the next time it is found in the cache, without the network
    monkeypatch.setattr(FashionMNIST, "mirrors", [dead])
    assert FashionMNIST(train=True).source == "cache"


def test_download_with_root_uses_torchvision_layout(places, server, monkeypatch):
    www, url = server
    make_files(www, 6)
    monkeypatch.setattr(MNIST, "resources", _resources(www))
    monkeypatch.setattr(MNIST, "mirrors", [url])
    ds = MNIST(root=places["root"])
    assert Path(ds.folder) == places["root"] / "MNIST" / "raw" and _marker(ds) == 6


def test_md5_mismatch_is_rejected(places, server, monkeypatch):
    www, url = server
    make_files(www, 4)
    res = _resources(www)
    res[2] = (res[2][0], "0" * 32)  # the test images are "corrupt"
    monkeypatch.setattr(FashionMNIST, "resources", res)
    monkeypatch.setattr(FashionMNIST, "mirrors", [url])
    with pytest.raises(DatasetNotFoundError) as info:
        FashionMNIST()
    msg = str(info.value)
    assert "MD5 mismatch" in msg and "expected 00000000" in msg
    assert "t10k-images-idx3-ubyte.gz" in msg
    target = places["cache"] / "deepgrad" / "fashion-mnist"
    assert not (target / "t10k-images-idx3-ubyte.gz").exists()  # never kept
    assert not list(target.glob(".*part*"))


def test_http_404_falls_through_to_the_next_mirror(places, server, monkeypatch, tmp_path):
    www, url = server
    make_files(www / "good", 2)
    monkeypatch.setattr(FashionMNIST, "resources", _resources(www / "good"))
    monkeypatch.setattr(FashionMNIST, "mirrors", [url + "missing/", url + "good/"])
    assert _marker(FashionMNIST()) == 2


def test_unreachable_mirror_gives_the_helpful_error(places, monkeypatch):
    dead = f"http://127.0.0.1:{_free_port()}/"
    monkeypatch.setattr(FashionMNIST, "mirrors", [dead])
    with pytest.raises(DatasetNotFoundError) as info:
        FashionMNIST()
    msg = str(info.value)
    assert dead in msg and "refused" in msg.lower()
    assert str(places["env"]) in msg and str(places["debian"]) in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "DEEPGRAD_DATA" in msg
    assert "could not download train-images-idx3-ubyte.gz" in msg


def test_download_files_keeps_verified_files(server, tmp_path):
    www, url = server
    (www / "a.bin").write_bytes(b"hello")
    md5 = hashlib.md5(b"hello").hexdigest()
    dest = tmp_path / "dest"
    dl.download_files([("a.bin", md5)], [url], dest, progress=False)
    (www / "a.bin").unlink()  # a second call must not need the server
    assert dl.download_files([("a.bin", md5)], [url], dest, progress=False) == [dest / "a.bin"]


def test_stderr_progress_bar_without_tqdm(server, tmp_path, monkeypatch, capsys):
    www, url = server
    (www / "b.bin").write_bytes(bytes(300_000))
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # "not installed"
    dl.fetch(url + "b.bin", tmp_path / "b.bin", None, timeout=5)
    err = capsys.readouterr().err
    assert "b.bin" in err and "100.0%" in err and "0.3/0.3 MB" in err


def test_gzip_payload_served_is_parsed(places, server, monkeypatch):
    # a mirror serving raw (not gzipped) content under the .gz names still gives the data
    www, url = server
    folder = make_files(www / "tmp", 1, gz=True)
    for name in STEMS:
        (www / (name + ".gz")).write_bytes(gzip.decompress((folder / (name + ".gz")).read_bytes()))
    monkeypatch.setattr(FashionMNIST, "resources", _resources(www))
    monkeypatch.setattr(FashionMNIST, "mirrors", [url])
    assert _marker(FashionMNIST()) == 1
