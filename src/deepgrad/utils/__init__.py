"""``deepgrad.utils``, as ``torch.utils``: ``deepgrad.utils.data`` is ``deepgrad.data``."""

from deepgrad.utils import data
