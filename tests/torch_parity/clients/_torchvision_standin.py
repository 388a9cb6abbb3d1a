"""The part of torchvision the client programs use, written on torch and NumPy, for the torch run.

torchvision cannot be installed beside torch 2.13 here, so the torch run of the
torchvision-style programs imports this module as ``torchvision``. It follows torchvision's
documented behaviour, independently of ``deepgrad.vision``:

- ``datasets.FashionMNIST`` / ``MNIST(root, train, transform, target_transform, download)``:
  ``(image, label)`` pairs, the image 28x28 uint8 (torchvision gives a PIL image, which
  ``ToTensor`` turns into the same tensor), the label a Python int; the IDX files are looked for
  under ``root/<Name>/raw``, ``root``, ``$DEEPGRAD_DATA`` and Debian's
  ``/usr/share/datasets/fashion-mnist``;
- ``transforms.ToTensor`` (HxW or HxWxC uint8 to CxHxW float32 in [0, 1]), ``Normalize``
  (per channel ``(x - mean) / std``), ``Compose``, ``Lambda``, ``RandomHorizontalFlip``
  (``torch.rand(1) < p``), ``RandomCrop(size, padding)`` (zero padding, then offsets from
  ``torch.randint``);
- ``utils.make_grid(tensor, nrow=8, padding=2, normalize=False, pad_value=0.0)``.
"""

from __future__ import annotations

import gzip
import math
import os
import types
from pathlib import Path

import numpy as np
import torch

_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_idx(path: Path) -> np.ndarray:
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", ndim, 4).astype(int)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


class _IDXDataset:
    folder_name = ""
    extra_dirs: tuple[str, ...] = ()

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.train, self.transform, self.target_transform = train, transform, target_transform
        dirs = [Path(root) / self.folder_name / "raw", Path(root)]
        if os.environ.get("DEEPGRAD_DATA"):
            dirs.append(Path(os.environ["DEEPGRAD_DATA"]))
        dirs += [Path(d) for d in self.extra_dirs]
        images, labels = (self._find(dirs, name) for name in _FILES[train])
        self.data = torch.from_numpy(_read_idx(images).copy())
        self.targets = torch.from_numpy(_read_idx(labels).astype(np.int64))

    def _find(self, dirs, name) -> Path:
        for d in dirs:
            for candidate in (d / name, d / (name + ".gz")):
                if candidate.exists():
                    return candidate
        raise RuntimeError(f"{type(self).__name__}: {name} not found in {dirs}")

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index):
        image, target = self.data[index].numpy(), int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


class FashionMNIST(_IDXDataset):
    folder_name = "FashionMNIST"
    extra_dirs = ("/usr/share/datasets/fashion-mnist",)
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


class MNIST(_IDXDataset):
    folder_name = "MNIST"
    classes = [
        f"{i} - {w}"
        for i, w in enumerate("zero one two three four five six seven eight nine".split())
    ]


class ToTensor:
    def __call__(self, pic):
        arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        return torch.from_numpy(arr.transpose(2, 0, 1).copy()).float().div(255)


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = mean, std

    def __call__(self, tensor):
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype).reshape(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=tensor.dtype).reshape(-1, 1, 1)
        return (tensor - mean) / std


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class Lambda:
    def __init__(self, lambd):
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)


class RandomHorizontalFlip:
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if torch.rand(1) < self.p:
            return img.flip(-1)
        return img


class RandomCrop:
    def __init__(self, size, padding=None):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = padding

    def __call__(self, img):
        if self.padding:
            p = self.padding
            img = torch.nn.functional.pad(img, (p, p, p, p))
        h, w = img.shape[-2:]
        th, tw = self.size
        i = torch.randint(0, h - th + 1, size=(1,)).item()
        j = torch.randint(0, w - tw + 1, size=(1,)).item()
        return img[..., i : i + th, j : j + tw]


def make_grid(tensor, nrow=8, padding=2, normalize=False, pad_value=0.0):
    if isinstance(tensor, list):
        tensor = torch.stack(tensor)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize:
        tensor = tensor.clone()
        tensor = (tensor - tensor.min()) / max(float(tensor.max() - tensor.min()), 1e-5)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    n = tensor.size(0)
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(n / xmaps))
    height, width = tensor.size(2) + padding, tensor.size(3) + padding
    grid = tensor.new_full(
        (tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value
    )
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= n:
                break
            grid[
                :, y * height + padding : (y + 1) * height, x * width + padding : (x + 1) * width
            ] = tensor[k]
            k += 1
    return grid


datasets = types.ModuleType("torchvision.datasets")
datasets.FashionMNIST, datasets.MNIST = FashionMNIST, MNIST
transforms = types.ModuleType("torchvision.transforms")
for _cls in (ToTensor, Normalize, Compose, Lambda, RandomHorizontalFlip, RandomCrop):
    setattr(transforms, _cls.__name__, _cls)
utils = types.ModuleType("torchvision.utils")
utils.make_grid = make_grid
