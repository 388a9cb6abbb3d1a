"""``MNIST`` and ``FashionMNIST``: 28x28 grey-scale images in 10 classes (60,000 for training,
10,000 for testing), read from the four IDX files of the original distribution.

Where the files are looked for, in this order (the first folder that holds all four wins):

1. ``root``, when given: ``root/<Name>/raw/`` (torchvision's layout, so a folder torchvision
   downloaded into works), ``root/<name>/`` and ``root/`` itself;
2. ``$DEEPGRAD_DATA`` (one folder, or several separated by ``os.pathsep``): first its
   subfolders ``fashion-mnist/``, ``FashionMNIST/raw/``, ``FashionMNIST/`` (``mnist/``,
   ``MNIST/raw/``, ``MNIST/`` for MNIST), then the folder itself. Both data sets use the same
   file names, so put each in its own subfolder when you keep both;
3. the user cache, ``$XDG_CACHE_HOME/deepgrad/<name>/`` or ``~/.cache/deepgrad/<name>/``
   (``<name>`` is ``fashion-mnist`` or ``mnist``);
4. Fashion-MNIST only: ``/usr/share/datasets/fashion-mnist/``, where Debian's package
   ``dataset-fashion-mnist`` installs it (MNIST has no such package);
5. with ``download=True``: a download from the official mirrors into ``root/<Name>/raw/`` when
   ``root`` is given, else into the user cache, each file checked against the MD5 torchvision
   uses. Without network this fails within seconds.

Each file may be gzipped (``train-images-idx3-ubyte.gz``) or not (``train-images-idx3-ubyte``,
also ``train-images.idx3-ubyte``). If nothing works, the error lists every place looked at and
the commands that would fix it.

Deviations from torchvision, on purpose: a sample's image is a float32 tensor ``1 x 28 x 28``
scaled to [0, 1] (what ``ToTensor()`` would give), not a PIL image, so there is no PIL
dependency; a ``transform`` receives that tensor. ``download`` defaults to True.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from deepgrad.data import download as _download
from deepgrad.data.dataset import Dataset
from deepgrad.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, read_idx
from deepgrad.tensor import Tensor, _wrap

TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
ALL_FILES = TRAIN_FILES + TEST_FILES


class DatasetNotFoundError(RuntimeError):
    """The data set's files are nowhere to be found and could not be downloaded."""


def cache_dir() -> Path:
    """deepgrad's user cache folder: ``$XDG_CACHE_HOME/deepgrad`` or ``~/.cache/deepgrad``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "deepgrad"


def _unit(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1], as torchvision's ``ToTensor``: ``float(p) / 255``."""
    return np.divide(pixels, np.float32(255), dtype=np.float32)


def _find_file(folder: Path, stem: str) -> Path | None:
    dotted = stem.replace("-idx", ".idx")  # the names some unpacked copies use
    for name in (stem + ".gz", stem, dotted + ".gz", dotted):
        p = folder / name
        if p.is_file():
            return p
    return None


def _gzipped_md5(*md5s: str) -> list[tuple[str, str]]:
    """``(file name, MD5)`` of the gzipped files, the MD5s given in the order of ALL_FILES."""
    return [(stem + ".gz", md5) for stem, md5 in zip(ALL_FILES, md5s, strict=True)]


class MNIST(Dataset):
    """The MNIST handwritten digits (LeCun et al.), 10 classes ``0 - zero`` ... ``9 - nine``.

    ``MNIST(root=None, train=True, transform=None, target_transform=None, download=True)``.
    ``ds[i]`` is ``(image, label)``: image a float32 tensor ``1 x 28 x 28`` with values
    ``pixel / 255`` in [0, 1], label an int. ``ds.data`` is the uint8 tensor ``N x 28 x 28``
    and ``ds.targets`` the int64 labels, as in torchvision; ``ds.tensors()`` gives all images
    and labels as two tensors at once. See the module docstring for where the files are found.
    """

    name = "mnist"
    subfolders = ("mnist", "MNIST/raw", "MNIST")
    torchvision_folder = "MNIST"
    debian_dir: str | None = None
    debian_package: str | None = None
    debian_md5: dict[str, str] = {}
    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = _gzipped_md5(
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "d53e105ee54ea40749a09fcbcd1e9432",
        "9fb629c4189551a2d022fa330f9573f3",
        "ec29112dd5afa0611ce80d1b7f02629c",
    )
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(
        self,
        root=None,
        train: bool = True,
        transform=None,
        target_transform=None,
        download: bool = True,
    ) -> None:
        self.root = root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        files, self.folder, self.source = locate(type(self), root, download)
        images_file, labels_file = (files[s] for s in (TRAIN_FILES if train else TEST_FILES))
        images = read_idx(images_file, IMAGES_MAGIC)
        labels = read_idx(labels_file, LABELS_MAGIC)
        if images.shape[1:] != (28, 28):
            raise IDXError(
                f"IDX file {str(images_file)!r}: images are {images.shape[1]}x{images.shape[2]}"
                f", but {type(self).__name__} images are 28x28; is it the right file?"
            )
        if len(images) != len(labels):
            raise IDXError(
                f"{type(self).__name__}: {images_file} holds {len(images)} images but "
                f"{labels_file} holds {len(labels)} labels; the two files must come from the "
                "same split (and be complete). Replace the damaged one."
            )
        if len(labels) and labels.max() >= len(self.classes):
            raise IDXError(
                f"IDX file {str(labels_file)!r}: label {int(labels.max())} is out of range "
                f"0..{len(self.classes) - 1}; the file is corrupt or not a label file"
            )
        self.data = _wrap(images)
        self.targets = _wrap(labels.astype(np.int64))
        self._tensors_cache = None

    # ------------------------------------------------------------------ samples
    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int):
        img, target = self._sample(index)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _sample(self, index: int) -> tuple:
        """Sample ``index`` before the transforms: (image tensor 1 x 28 x 28, int label)."""
        img = _wrap(_unit(self.data._data[index]).reshape((1, 28, 28)))
        return img, int(self.targets._data[index])

    @property
    def _get_batch(self):
        # DataLoader's fast path: one fancy-indexing per batch. Only without transforms,
        # which work per sample.
        if self.transform is not None or self.target_transform is not None:
            raise AttributeError("_get_batch")
        return self._batch

    def _batch(self, indices: np.ndarray) -> list:
        x = _unit(self.data._data[indices])
        return [_wrap(x.reshape((len(indices), 1, 28, 28))), _wrap(self.targets._data[indices])]

    def tensors(self, flatten: bool = False) -> tuple[Tensor, Tensor]:
        """All images and labels at once: ``X`` float32 ``N x 1 x 28 x 28`` (or ``N x 784`` with
        ``flatten``) with values in [0, 1], and ``y`` int64 ``N``.

        The arrays are computed once and cached, so later calls share them: copy before
        changing them in place (``X = X.clone()``).
        """
        key = (self.data._data, self.targets._data)
        cached = self._tensors_cache
        if cached is None or cached[0][0] is not key[0] or cached[0][1] is not key[1]:
            x = _unit(key[0])
            cached = (key, x.reshape((len(x), 1, 28, 28)), key[1])
            self._tensors_cache = cached
        x = cached[1]
        return _wrap(x.reshape((len(x), -1)) if flatten else x), _wrap(cached[2])

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self) -> str:
        return (
            f"Dataset {type(self).__name__}\n"
            f"    Number of datapoints: {len(self)}\n"
            f"    Root location: {self.folder} ({self.source})\n"
            f"    Split: {'Train' if self.train else 'Test'}"
        )


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): clothing images in 10 classes.

    Same interface as ``MNIST``; also found where Debian's ``dataset-fashion-mnist`` package
    installs it (``/usr/share/datasets/fashion-mnist``).
    """

    name = "fashion-mnist"
    subfolders = ("fashion-mnist", "FashionMNIST/raw", "FashionMNIST")
    torchvision_folder = "FashionMNIST"
    debian_dir = "/usr/share/datasets/fashion-mnist"
    debian_package = "dataset-fashion-mnist"
    # The package re-compresses the files: same arrays, other gzip bytes than the published.
    debian_md5 = dict(
        _gzipped_md5(
            "cf8536b0aa1a6ac5fa3f23001093305c",
            "10bea18fdb374794d4bb42e356e600c9",
            "f78720b4224f21cce2f2ccf2d7a94c9a",
            "0d30e22e447f3c33dab9ed536400ac01",
        )
    )
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = _gzipped_md5(
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "25c81989df183df01b3e8a0aad5dffbe",
        "bef4ecab320f06d8554ea6380940ec79",
        "bb300cfdad3c16e7a12a480ee83cd310",
    )
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]


# ---------------------------------------------------------------------- finding the files
def search_places(cls, root=None) -> list[tuple[Path, str]]:
    """The folders looked at for ``cls`` (MNIST or FashionMNIST), in order, with their source."""
    places: list[tuple[Path, str]] = []
    if root is not None:
        r = Path(root).expanduser()
        subs = (cls.torchvision_folder + "/raw",) + cls.subfolders
        places += [(r / s, "root") for s in dict.fromkeys(subs)] + [(r, "root")]
    env = os.environ.get("DEEPGRAD_DATA")
    if env:
        for entry in filter(None, env.split(os.pathsep)):
            e = Path(entry).expanduser()
            places += [(e / s, "DEEPGRAD_DATA") for s in cls.subfolders] + [(e, "DEEPGRAD_DATA")]
    places.append((cache_dir() / cls.name, "cache"))
    if cls.debian_dir:
        places.append((Path(cls.debian_dir), "debian"))
    return places


def _look(folder: Path) -> tuple[dict | None, str]:
    if not folder.is_dir():
        return None, "no such folder"
    found = {stem: _find_file(folder, stem) for stem in ALL_FILES}
    missing = [s for s, p in found.items() if p is None]
    if len(missing) == len(ALL_FILES):
        return None, "none of the files"
    if missing:
        return None, "missing " + ", ".join(missing)
    return found, "found"


def find(cls, root=None) -> tuple[dict | None, Path | None, str | None, list[str]]:
    """Search the places of ``search_places`` without downloading.

    Returns ``(files, folder, source, log)``: ``files`` maps each file stem to its path (None if
    not found), and ``log`` has one line per place looked at.
    """
    log = []
    for folder, source in search_places(cls, root):
        files, status = _look(folder)
        label = {
            "root": "root argument",
            "DEEPGRAD_DATA": "$DEEPGRAD_DATA",
            "cache": "user cache",
            "debian": f"Debian package {cls.debian_package}",
        }[source]
        log.append(f"{folder} ({label}): {status}")
        if files is not None:
            return files, folder, source, log
    if not os.environ.get("DEEPGRAD_DATA"):
        log.insert(1 if root is not None else 0, "$DEEPGRAD_DATA: not set")
    return None, None, None, log


def download_dir(cls, root=None) -> Path:
    """Where a download goes: ``root/<Name>/raw`` when ``root`` is given, else the user cache."""
    if root is not None:
        return Path(root).expanduser() / cls.torchvision_folder / "raw"
    return cache_dir() / cls.name


def locate(cls, root=None, download: bool = True, mirrors=None, timeout=None, progress=True):
    """Find (or download) the four files of ``cls``: ``(files, folder, source)``.

    ``mirrors`` overrides ``cls.mirrors`` (tests point it at a local server); ``timeout`` is
    the per-connection timeout in seconds (default ``download.DOWNLOAD_TIMEOUT``).
    """
    files, folder, source, log = find(cls, root)
    if files is not None:
        if source in ("cache", "debian"):  # copies whose bytes are known; see below
            _check_local_files(cls, files, source)
        return files, folder, source
    target = download_dir(cls, root)
    mirrors = cls.mirrors if mirrors is None else mirrors
    if download:
        try:
            _download.download_files(cls.resources, mirrors, target, timeout, progress)
        except _download.DownloadError as e:
            log.append(f"download from {', '.join(mirrors)}: failed, {e}")
        else:
            files, status = _look(target)
            if files is not None:
                return files, target, "download"
            log.append(f"download into {target}: {status}")  # pragma: no cover - defensive
    else:
        log.append("download: not tried (download=False)")
    raise DatasetNotFoundError(_not_found_message(cls, log, target, mirrors))


def _check_local_files(cls, files: dict, source: str) -> None:
    """Compare the MD5 of every ``.gz`` file found in the user cache (downloaded: the
    published MD5) or in the Debian package's folder (Debian's own, re-compressed copies) with
    the known one, once per file version (the result is cached), so a damaged file is named
    instead of read. Folders given by the user (``root``, ``$DEEPGRAD_DATA``) may hold other
    valid compressions; there, and for unpacked files, the IDX reader's structure checks
    apply."""
    from deepgrad.data.idx import IDXError

    expected = dict(cls.debian_md5 if source == "debian" else cls.resources)
    for path in files.values():
        md5 = expected.get(path.name)
        if md5 is not None and not _download.verified_md5(path, md5):
            raise IDXError(
                f"{cls.__name__}: {path} does not have the published MD5 ({md5}); the file is "
                "damaged or not the original. Delete it and fetch it again"
                + (f" (or reinstall {cls.debian_package})" if cls.debian_package else "")
            )


def _not_found_message(cls, log: list[str], target: Path, mirrors) -> str:
    names = ", ".join(s + "[.gz]" for s in ALL_FILES)
    fixes = []
    if cls.debian_package:
        fixes.append(f"sudo apt-get install {cls.debian_package}   (Debian/Ubuntu)")
    fixes.append("put the four files in a folder and set DEEPGRAD_DATA=/path/to/that/folder")
    urls = " ".join(mirrors[0].rstrip("/") + "/" + name for name, _ in cls.resources)
    fixes.append(
        f"download the four files into {target}/ when you have network, e.g.\n"
        f"      mkdir -p {target} && cd {target} && wget {urls}"
    )
    return (
        f"{cls.__name__}: could not find the data set files ({names}).\n"
        "Looked in:\n  - " + "\n  - ".join(log) + "\n"
        "To fix it, do one of:\n  - " + "\n  - ".join(fixes)
    )
