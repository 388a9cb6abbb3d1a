"""``utils.make_grid``: tile a batch of images into one image, as torchvision does."""

from __future__ import annotations

import math

import numpy as np

from deepgrad.tensor import Tensor, _wrap

__all__ = ["make_grid"]


def make_grid(
    tensor,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
) -> Tensor:
    """Arrange ``B x C x H x W`` images (or a list of ``C x H x W``) in a grid ``nrow`` wide.

    Torchvision's rules: one-channel images become three channels (grey to RGB); images are
    separated and surrounded by ``padding`` pixels of ``pad_value``; ``normalize=True``
    rescales to [0, 1] using ``value_range`` (default: the min and max of all images, or of
    each image with ``scale_each``). The result is ``3 x H' x W'`` (or ``C x ...`` for C != 1);
    a single image is returned without padding.
    """
    if isinstance(tensor, (list, tuple)):
        x = np.stack([t._data if isinstance(t, Tensor) else np.asarray(t) for t in tensor])
    else:
        x = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        if x.shape[0] == 1:
            x = np.concatenate([x] * 3, axis=0)
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected B x C x H x W images, got shape {x.shape}")
    if x.shape[1] == 1:
        x = np.concatenate([x] * 3, axis=1)
    if normalize:
        x = x.astype(np.result_type(x.dtype, np.float32), copy=True)
        if scale_each:
            for k in range(len(x)):
                x[k] = _rescale(x[k], value_range)
        else:
            x = _rescale(x, value_range)
    if x.shape[0] == 1:
        return _wrap(np.ascontiguousarray(x[0]))
    nmaps = x.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(nmaps / xmaps))
    height, width = x.shape[2] + padding, x.shape[3] + padding
    grid = np.full(
        (x.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value, dtype=x.dtype
    )
    for k in range(nmaps):
        y, col = divmod(k, xmaps)
        top, left = y * height + padding, col * width + padding
        grid[:, top : top + height - padding, left : left + width - padding] = x[k]
    return _wrap(grid)


def _rescale(img: np.ndarray, value_range) -> np.ndarray:
    low, high = value_range if value_range is not None else (img.min(), img.max())
    img = np.clip(img, low, high)
    return (img - low) / max(high - low, 1e-5)
