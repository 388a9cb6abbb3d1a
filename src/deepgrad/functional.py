"""``deepgrad.functional``: PyTorch's ``torch.functional`` module path (the same functions as
``deepgrad.*``, for code that spells them ``torch.functional.X``)."""

from deepgrad.functions import *  # noqa: F403
