"""deepgrad.vision: torchvision-shaped datasets, transforms and make_grid.

torchvision cannot be installed beside torch 2.13 here, so the oracles are NumPy and worked
examples of torchvision's documented behaviour.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import deepgrad
import deepgrad.vision as torchvision
from deepgrad.vision import transforms as T
from deepgrad.vision.utils import make_grid

DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def _write_idx(folder: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A tiny MNIST in torchvision's layout root/MNIST/raw, written with the IDX format."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        head = np.array([0x803, n, 28, 28], ">i4").tobytes()
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(head + images.tobytes())
        )
        head = np.array([0x801, n], ">i4").tobytes()
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(head + labels.tobytes())
        )
    return images, labels


def test_mnist_items_are_torchvision_shaped(tmp_path):
    images, labels = _write_idx(tmp_path / "MNIST" / "raw", 5, 0)
    ds = torchvision.datasets.MNIST(root=tmp_path, train=True, download=False)
    assert len(ds) == 5
    img, target = ds[3]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    np.testing.assert_array_equal(img, images[3])
    assert target == int(labels[3]) and type(target) is int
    assert ds.data.dtype == deepgrad.uint8 and ds.targets.dtype == deepgrad.int64
    ds = torchvision.datasets.MNIST(
        tmp_path, train=False, transform=T.ToTensor(), target_transform=lambda y: y + 100
    )
    img, target = ds[1]
    assert img.shape == (1, 28, 28) and img.dtype == deepgrad.float32
    np.testing.assert_array_equal(img._data[0], images[1].astype(np.float32) / 255)
    assert target == int(labels[1]) + 100


@pytest.mark.skipif(not DEBIAN.exists(), reason="Debian's dataset-fashion-mnist not installed")
def test_fashion_mnist_from_the_debian_files_through_a_dataloader():
    tf = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    ds = torchvision.datasets.FashionMNIST(root="unused", train=False, download=False, transform=tf)
    assert len(ds) == 10000
    x0, y0 = ds[0]
    loader = deepgrad.utils.data.DataLoader(ds, batch_size=32, shuffle=False)
    xb, yb = next(iter(loader))
    assert xb.shape == (32, 1, 28, 28) and yb.dtype == deepgrad.int64
    # the batched fast path gives exactly what per-sample transforms give
    np.testing.assert_array_equal(xb._data[0], x0._data)
    assert int(yb[0]) == y0
    raw = ds.data._data[:32].astype(np.float32) / 255
    np.testing.assert_allclose(xb._data[:, 0], (raw - 0.5) / 0.5, rtol=1e-6)


def test_to_tensor_worked_examples():
    hw = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    out = T.ToTensor()(hw)
    assert out.shape == (1, 2, 2) and out.dtype == deepgrad.float32
    np.testing.assert_allclose(out._data[0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)
    hwc = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = T.ToTensor()(hwc)
    assert out.shape == (4, 2, 3)
    np.testing.assert_allclose(out._data, hwc.transpose(2, 0, 1) / np.float32(255), rtol=1e-6)
    floats = np.full((2, 2), 7.5, dtype=np.float32)  # non-uint8 input is not rescaled
    np.testing.assert_array_equal(T.ToTensor()(floats)._data, np.full((1, 2, 2), 7.5))


def test_normalize_per_channel_and_errors():
    x = deepgrad.tensor(np.arange(12, dtype=np.float32).reshape(3, 2, 2))
    out = T.Normalize(mean=[1.0, 2.0, 3.0], std=[1.0, 2.0, 4.0])(x)
    expect = (x._data - np.array([1, 2, 3]).reshape(3, 1, 1)) / np.array([1, 2, 4]).reshape(3, 1, 1)
    np.testing.assert_allclose(out._data, expect)
    np.testing.assert_array_equal(x._data, np.arange(12, dtype=np.float32).reshape(3, 2, 2))
    same = T.Normalize([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], inplace=True)(x)
    assert same is x
    np.testing.assert_allclose(x._data, expect)
    with pytest.raises(ValueError, match="zero"):
        T.Normalize([0.0], [0.0])(deepgrad.ones(1, 2, 2))
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize([0.0], [1.0])(np.ones((2, 2)))


def test_compose_and_lambda():
    tf = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Lambda(lambda t: t.flatten())])
    out = tf(np.full((2, 2), 255, dtype=np.uint8))
    np.testing.assert_array_equal(out._data, np.full(4, 2.0, np.float32))
    with pytest.raises(TypeError):
        T.Lambda(3)


def test_random_horizontal_flip_probabilities_and_result():
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    t = deepgrad.tensor(np.arange(12.0).reshape(1, 3, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(t)._data, t._data[..., ::-1])
    deepgrad.manual_seed(0)
    flips = sum(T.RandomHorizontalFlip(0.5)(img)[0, 0] == 2 for _ in range(400))
    assert 140 < flips < 260  # binomial(400, 0.5): far outside these bounds only if broken


def test_random_crop_with_padding_covers_every_window():
    img = np.arange(16, dtype=np.uint8).reshape(4, 4) + 1
    crop = T.RandomCrop(4, padding=1)
    padded = np.pad(img, 1)
    windows = {(i, j): padded[i : i + 4, j : j + 4] for i in range(3) for j in range(3)}
    seen = set()
    deepgrad.manual_seed(1)
    for _ in range(200):
        out = crop(img)
        match = [k for k, w in windows.items() if np.array_equal(w, out)]
        assert len(match) == 1
        seen.add(match[0])
    assert seen == set(windows)  # all 9 offsets of a 6x6 padded image occur
    t = deepgrad.tensor(np.ones((3, 5, 5), np.float32))
    out = T.RandomCrop((2, 3), padding=(1, 2), fill=0)(t)
    assert out.shape == (3, 2, 3)
    edge = T.RandomCrop(6, padding=1, padding_mode="edge")(img)
    np.testing.assert_array_equal(edge, np.pad(img, 1, mode="edge"))
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(5)(img)
    assert T.RandomCrop(6, pad_if_needed=True)(img).shape == (6, 6)


def test_make_grid_worked_example():
    # 3 one-channel 2x2 images, 2 per row, padding 1 (torchvision's layout rules)
    imgs = deepgrad.tensor(np.stack([np.full((1, 2, 2), v, np.float32) for v in (1, 2, 3)]))
    grid = make_grid(imgs, nrow=2, padding=1, pad_value=9)
    assert grid.shape == (3, 7, 7)  # 2 rows, 2 cols: (2 + 1) * 2 + 1
    expect = np.full((7, 7), 9, np.float32)
    expect[1:3, 1:3], expect[1:3, 4:6], expect[4:6, 1:3] = 1, 2, 3
    for c in range(3):  # grey images are repeated into three channels
        np.testing.assert_array_equal(grid._data[c], expect)
    default = make_grid(deepgrad.zeros(10, 1, 28, 28))
    assert default.shape == (3, 62, 242)
    single = make_grid(deepgrad.ones(1, 1, 2, 2))
    assert single.shape == (3, 2, 2)


def test_make_grid_normalize():
    imgs = deepgrad.tensor(np.array([[[[0.0, 2.0]]], [[[4.0, 8.0]]]], np.float32))
    g = make_grid(imgs, nrow=2, padding=0, normalize=True)
    np.testing.assert_allclose(g._data[0], [[0.0, 0.25, 0.5, 1.0]])
    g = make_grid(imgs, nrow=2, padding=0, normalize=True, scale_each=True)
    np.testing.assert_allclose(g._data[0], [[0.0, 1.0, 0.0, 1.0]])
    g = make_grid(imgs, nrow=2, padding=0, normalize=True, value_range=(0, 4))
    np.testing.assert_allclose(g._data[0], [[0.0, 0.5, 1.0, 1.0]])


def test_import_as_torchvision():
    import deepgrad.vision as tv

    assert tv.datasets.FashionMNIST and tv.transforms.ToTensor and tv.utils.make_grid
    assert deepgrad.vision is tv
