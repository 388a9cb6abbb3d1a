"""torchvision's common transforms, on NumPy images and deepgrad tensors (no PIL).

An image is either a NumPy array H x W or H x W x C (what ``datasets`` return, uint8 or
float) or a tensor C x H x W (after ``ToTensor``). Random transforms draw from deepgrad's
global generator, so ``deepgrad.manual_seed`` makes them repeatable.
"""

from __future__ import annotations

import numbers

import numpy as np

from deepgrad.random import rng
from deepgrad.tensor import Tensor, _wrap

__all__ = [
    "Compose",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "ToTensor",
]


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms) -> None:
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __getattr__(self, name):
        # a batched path exists only if every step has one (see datasets._TorchvisionItems)
        if name == "_batch" and all(hasattr(t, "_batch") for t in self.transforms):

            def run(images):
                for t in self.transforms:
                    images = t._batch(images)
                return images

            return run
        raise AttributeError(name)

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """H x W (x C) image -> float32 tensor C x H x W; uint8 values are scaled to [0, 1].

    As torchvision: a uint8 array becomes ``value / 255``; an array of another dtype keeps its
    values (only the axes move). A PIL image, if you have PIL, is converted with
    ``np.asarray`` first.
    """

    def __call__(self, pic) -> Tensor:
        arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            raise TypeError(
                f"ToTensor: expected an image H x W or H x W x C, got an array of shape {arr.shape}"
            )
        chw = arr.transpose(2, 0, 1)
        if arr.dtype == np.uint8:
            return _wrap(np.divide(chw, np.float32(255), dtype=np.float32))
        return _wrap(np.ascontiguousarray(chw))

    def _batch(self, images: np.ndarray) -> Tensor:
        # N x H x W uint8 (what datasets hold) -> N x 1 x H x W float32, as per-sample calls
        if images.ndim != 3 or images.dtype != np.uint8:
            raise AttributeError("_batch")
        out = np.divide(images, np.float32(255), dtype=np.float32)
        return _wrap(out.reshape(images.shape[0], 1, *images.shape[1:]))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] per channel of a float tensor C x H x W (or ... x C x H x W)."""

    def __init__(self, mean, std, inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def _params(self, x: np.ndarray, channel_axis: int):
        mean = np.asarray(self.mean, dtype=x.dtype).reshape(-1)
        std = np.asarray(self.std, dtype=x.dtype).reshape(-1)
        if (std == 0).any():
            raise ValueError(
                f"Normalize: std evaluated to zero after conversion to {x.dtype}, leading to "
                "division by zero."
            )
        shape = [1] * (x.ndim - channel_axis)
        shape[0] = -1
        return mean.reshape(shape), std.reshape(shape)

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"Normalize: input should be a tensor (use ToTensor() first), got "
                f"{type(tensor).__name__}"
            )
        x = tensor._data
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor, got {tensor.dtype}")
        if x.ndim < 3:
            raise ValueError(
                f"Normalize: expected a tensor image of size (..., C, H, W), got shape "
                f"{tuple(x.shape)}"
            )
        mean, std = self._params(x, x.ndim - 3)
        if self.inplace:
            x -= mean
            x /= std
            return tensor
        return _wrap((x - mean) / std)

    def _batch(self, batch: Tensor) -> Tensor:
        return self(batch)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user function as a transform."""

    def __init__(self, lambd) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _hw_axes(img):
    """(height axis, width axis, array) for a tensor C x H x W or an array H x W (x C)."""
    if isinstance(img, Tensor):
        return img.ndim - 2, img.ndim - 1, img._data
    arr = np.asarray(img)
    return 0, 1, arr


def _like(img, arr):
    return _wrap(np.ascontiguousarray(arr)) if isinstance(img, Tensor) else arr


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img):
        if rng().random() < self.p:
            _, w, arr = _hw_axes(img)
            return _like(img, np.flip(arr, axis=w))
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomCrop:
    """Crop a random ``size`` window, after optional ``padding`` (torchvision's arguments).

    ``padding``: an int (all sides), (left/right, top/bottom) or (left, top, right, bottom);
    ``padding_mode``: "constant" (with ``fill``), "edge", "reflect" or "symmetric".
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = (int(size), int(size)) if isinstance(size, numbers.Number) else tuple(size)
        if len(self.size) == 1:
            self.size = (self.size[0], self.size[0])
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(
                "padding_mode should be either constant, edge, reflect or symmetric, got "
                f"{padding_mode!r}"
            )
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def _sides(padding) -> tuple[int, int, int, int]:
        """(left, top, right, bottom)."""
        if isinstance(padding, numbers.Number):
            p = int(padding)
            return p, p, p, p
        padding = tuple(int(v) for v in padding)
        if len(padding) == 1:
            return padding * 4
        if len(padding) == 2:
            return padding[0], padding[1], padding[0], padding[1]
        if len(padding) == 4:
            return padding
        raise ValueError(f"padding must be an int or a 1, 2 or 4 element tuple, got {padding}")

    def _pad(self, arr: np.ndarray, h: int, w: int, sides) -> np.ndarray:
        left, top, right, bottom = sides
        widths = [(0, 0)] * arr.ndim
        widths[h], widths[w] = (top, bottom), (left, right)
        if self.padding_mode == "constant":
            return np.pad(arr, widths, mode="constant", constant_values=self.fill)
        return np.pad(arr, widths, mode=self.padding_mode)

    def __call__(self, img):
        h, w, arr = _hw_axes(img)
        if self.padding is not None:
            arr = self._pad(arr, h, w, self._sides(self.padding))
        th, tw = self.size
        if self.pad_if_needed and arr.shape[w] < tw:
            d = tw - arr.shape[w]
            arr = self._pad(arr, h, w, (d, 0, d, 0))
        if self.pad_if_needed and arr.shape[h] < th:
            d = th - arr.shape[h]
            arr = self._pad(arr, h, w, (0, d, 0, d))
        height, width = arr.shape[h], arr.shape[w]
        if height < th or width < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than the input image size "
                f"{(height, width)}; add padding or pad_if_needed=True"
            )
        g = rng()
        i = int(g.integers(0, height - th + 1))
        j = int(g.integers(0, width - tw + 1))
        index = [slice(None)] * arr.ndim
        index[h], index[w] = slice(i, i + th), slice(j, j + tw)
        return _like(img, arr[tuple(index)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"
