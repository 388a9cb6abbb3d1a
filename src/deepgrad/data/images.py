"""Reading one picture for a model trained on small grayscale images: PNG in, ``H x W`` array
in [0, 1] out (white = 1), resized by area and inverted when it is dark ink on light paper.

Untrusted files are checked before they are decoded: the byte size, then the width and height
from the PNG header (a small file can announce a huge image), then the size the model wants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepgrad.utils.argnames import arg

MAX_PIXELS = 16_777_216  # 4096 x 4096: the largest image decoded unless max_pixels says more
MAX_IMAGE_BYTES = 64 * 2**20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageError(ValueError):
    """A picture that cannot be read, or is too large or of the wrong size for the model."""


def png_size(path) -> tuple[int, int]:
    """``(width, height)`` from a PNG's IHDR chunk, read without decoding the image."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ImageError(
            f"{path} is not a PNG image (its first bytes are not a PNG signature and header); "
            "save the picture as PNG"
        )
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def read_image(
    path,
    size: tuple[int, int],
    invert: str = "auto",
    resize: bool = False,
    max_pixels: int = MAX_PIXELS,
) -> tuple[np.ndarray, bool]:
    """A PNG as a ``size`` (height, width) float64 grayscale array in [0, 1], and whether it
    was inverted.

    Colour is averaged to gray (ITU-R 601 weights; transparency composited onto white). An
    image over ``max_pixels`` is refused before it is decoded, and one of another size than
    ``size`` unless ``resize`` (then :func:`resize_image` scales it by area).
    ``invert="auto"`` inverts when the border is light (dark ink on paper, unlike MNIST's
    light digits on black); ``"yes"`` and ``"no"`` force it.
    """
    import matplotlib.image as mpimg

    path = Path(path)
    nbytes = path.stat().st_size
    if nbytes > MAX_IMAGE_BYTES:
        raise ImageError(f"{path} has {nbytes:,} bytes; images up to {MAX_IMAGE_BYTES:,}")
    w, h = png_size(path)
    if w * h > max_pixels or not w or not h:
        raise ImageError(
            f"{path} is {w}x{h} pixels, more than {arg('max_pixels', max_pixels)} (or "
            f"empty); shrink the image, or raise {arg('max_pixels')} if you really mean it"
        )
    if (h, w) != tuple(size) and not resize:
        raise ImageError(
            f"{path} is {w}x{h} pixels, but the model was trained on {size[1]}x{size[0]} "
            f"images; crop or scale it to that size, or pass {arg('resize')} to let deepgrad "
            "scale it (by area, which squashes a picture of another aspect ratio)"
        )
    try:
        img = np.asarray(mpimg.imread(path), dtype=np.float64)
    except Exception as e:  # noqa: BLE001 - Pillow/PNG errors of many kinds
        raise ImageError(f"cannot read {path} as a PNG image ({e})") from None
    if img.ndim == 3:
        if img.shape[2] == 4:  # composite onto white, as image viewers show it
            img = img[..., :3] * img[..., 3:] + (1.0 - img[..., 3:])
        img = img[..., :3] @ np.array([0.299, 0.587, 0.114]) if img.shape[2] >= 3 else img[..., 0]
    img = resize_image(img, *size)
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    inverted = invert == "yes" or (invert == "auto" and border.mean() > 0.5)
    return (1.0 - img if inverted else img), inverted


def resize_image(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """``img`` (2-D) at ``h x w``: shrunk by averaging the source pixels of each target cell,
    enlarged by repetition; returned as it is when the size already fits."""

    def axis(a, n: int, ax: int):
        m = a.shape[ax]
        if m == n:
            return a
        if m > n:
            edges = (np.arange(n) * m) // n
            sums = np.add.reduceat(a, edges, axis=ax)
            counts = np.diff(np.append(edges, m)).reshape([-1 if i == ax else 1 for i in range(2)])
            return sums / counts
        return np.take(a, (np.arange(n) * m) // n, axis=ax)

    return axis(axis(img, h, 0), w, 1)
