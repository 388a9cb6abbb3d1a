"""``FunctionalModule``: a layer that is its functional form with the options fixed when built.

PyTorch's loss and pooling layers take the options of their functional form, with the same
names and defaults: ``nn.CrossEntropyLoss(weight, size_average, ignore_index, ...)`` for
``F.cross_entropy(input, target, weight, size_average, ignore_index, ...)``. Here a layer's
constructor is derived from the signature of its ``_function``, so each option list is written
once, in the function, and the layer cannot drift from it; ``forward`` calls the function with
the stored options.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from deepgrad.nn.module import Module


class FunctionalModule(Module):
    """A layer whose constructor takes the options of ``_function``: its parameters after the
    first ``_inputs`` (the tensors, which ``forward`` takes), less ``_left_out``, in ``_order``
    where PyTorch's layer orders them differently from its function. ``__signature__`` shows
    them to ``inspect`` and ``help()``."""

    _function: Callable
    _inputs: int = 1
    _left_out: tuple[str, ...] = ()
    _order: tuple[str, ...] = ()
    _constructor: inspect.Signature  # derived for each subclass that names a _function

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "_function"):
            return
        parameters = {
            p.name: p
            for p in list(inspect.signature(cls._function).parameters.values())[cls._inputs :]
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name not in cls._left_out
        }
        if cls._order:
            if set(cls._order) != set(parameters):
                raise TypeError(f"{cls.__name__}._order must list {sorted(parameters)}")
            parameters = {name: parameters[name] for name in cls._order}
        cls._constructor = inspect.Signature(list(parameters.values()), return_annotation=None)
        # a subclass with its own __init__ shows that one (None: inspect reads __init__)
        cls.__signature__ = None if "__init__" in vars(cls) else cls._constructor

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        try:
            bound = self._constructor.bind(*args, **kwargs)
        except TypeError as err:  # name the layer, as Python names the function it calls
            raise TypeError(f"{type(self).__name__}(): {err}") from None
        bound.apply_defaults()
        self._keep(dict(bound.arguments))

    def _keep(self, options: dict) -> None:
        """Store the options that ``forward`` passes to ``_function``, as attributes; a layer
        that translates or checks its arguments first overrides this."""
        for name, value in options.items():
            setattr(self, name, value)
        self._options = tuple(options)

    def _call(self, *inputs, **extra):
        """``_function`` on the inputs, with the stored options."""
        options = {name: getattr(self, name) for name in self._options}
        return self._function(*inputs, **options, **extra)
