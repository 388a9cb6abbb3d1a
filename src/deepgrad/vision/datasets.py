"""``datasets.MNIST`` and ``datasets.FashionMNIST`` with torchvision's signature and items.

``MNIST(root, train=True, transform=None, target_transform=None, download=False)``: the
files are found where ``deepgrad.data`` finds them (``root/MNIST/raw/`` as torchvision lays them
out, ``$DEEPGRAD_DATA``, the user cache, and for Fashion-MNIST the Debian package's
``/usr/share/datasets/fashion-mnist``), and downloaded into ``root`` with ``download=True``.

``ds[i]`` is ``(image, target)`` as in torchvision, except that the image is a uint8 NumPy
array of shape 28 x 28 instead of a PIL image (deepgrad does not depend on PIL): exactly what
``transforms.ToTensor()`` accepts, so ``transform=ToTensor()`` gives the float32 1 x 28 x 28
tensor in [0, 1] that torchvision gives. ``ds.data`` (uint8 N x 28 x 28) and ``ds.targets``
(int64 N) are tensors, as in torchvision.
"""

from __future__ import annotations

import numpy as np

from deepgrad.data import mnist as _mnist
from deepgrad.tensor import _wrap

__all__ = ["MNIST", "FashionMNIST"]


class _TorchvisionItems:
    """torchvision's item semantics on top of deepgrad.data's readers (see module docstring)."""

    def __init__(
        self, root, train: bool = True, transform=None, target_transform=None, download=False
    ) -> None:
        super().__init__(root, train, transform, target_transform, download)

    def _sample(self, index: int) -> tuple:
        # The uint8 28 x 28 array, as torchvision's PIL image would hold it.
        return self.data._data[int(index)], int(self.targets._data[int(index)])

    @property
    def _get_batch(self):
        # DataLoader's batched fast path, only when every transform can run on a whole batch
        # (ToTensor, Normalize, and Compose of them) and gives the same result as per sample.
        t = self.transform
        if self.target_transform is not None or t is None or not hasattr(t, "_batch"):
            raise AttributeError("_get_batch")
        return self._fetch

    def _fetch(self, indices: np.ndarray) -> list:
        images = self.data._data[indices]
        return [self.transform._batch(images), _wrap(self.targets._data[indices])]


class MNIST(_TorchvisionItems, _mnist.MNIST):
    __doc__ = _mnist.MNIST.__doc__.split("\n")[0] + "\n\n    See the module docstring."


class FashionMNIST(_TorchvisionItems, _mnist.FashionMNIST):
    __doc__ = _mnist.FashionMNIST.__doc__.split("\n")[0] + "\n\n    See the module docstring."
