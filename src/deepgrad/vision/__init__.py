"""torchvision-shaped datasets, transforms and utils: ``import deepgrad.vision as torchvision``.

Covers what the PyTorch tutorials take from torchvision: ``datasets.MNIST`` and
``datasets.FashionMNIST``, ``transforms.ToTensor``/``Normalize``/``Compose``/``Lambda``/
``RandomHorizontalFlip``/``RandomCrop``, and ``utils.make_grid``. No PIL: an image is a uint8
NumPy array (H x W, or H x W x C), which is what ``ToTensor`` accepts.
"""

from deepgrad.vision import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
