"""``deepgrad.utils``, as ``torch.utils``: ``deepgrad.utils.data`` is ``deepgrad.data``.

Its other modules are the library's small tools, one idea each; ``summary`` tabulates a model
(``deepgrad.summary``, re-exported by ``deepgrad.viz``).
"""

from deepgrad.utils import data
