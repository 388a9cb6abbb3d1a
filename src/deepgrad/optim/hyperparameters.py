"""An optimiser's constructor arguments: PyTorch's signature and checks, each written once.

Every ``torch.optim`` optimiser takes ``params`` and then hyper-parameters drawn from one
vocabulary: numbers (``lr``, ``betas``, ``eps``, ``weight_decay``, ...), each with the same type
and the same check and message everywhere (``_NUMBERS``, ``checked``), and on/off switches
(``maximize``, ``foreach``, ``nesterov``, ...), each with the same default everywhere
(``_SWITCHES``). An optimiser states only its own lists, in PyTorch's order::

    class SGD(Optimizer):
        __init__ = constructor(
            dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0),
            switches=("nesterov",),
            keyword_only=("maximize", "foreach", "differentiable", "fused"),
            checks=("lr", "momentum", "weight_decay"),
        )

and ``constructor`` makes its ``__init__``: PyTorch's exact signature (``inspect.signature``;
positional and keyword calls alike), PyTorch's checks in PyTorch's order, and the optimiser's
``defaults`` built from the arguments given.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import Parameter, Signature
from typing import Any

from deepgrad.optim.optimizer import Optimizer

# The numeric hyper-parameters and their types; their defaults differ between optimisers.
_NUMBERS = {
    "lr": "float",
    "lr_decay": "float",
    "betas": "tuple[float, float]",
    "rho": "float",
    "alpha": "float",
    "eps": "float",
    "weight_decay": "float",
    "momentum": "float",
    "dampening": "float",
    "initial_accumulator_value": "float",
}

# The switches, with the default every PyTorch optimiser gives them.
_SWITCHES = {
    "nesterov": False,
    "amsgrad": False,
    "centered": False,
    "maximize": False,
    "decoupled_weight_decay": False,
    "capturable": False,
    "differentiable": False,
    "foreach": None,
    "fused": None,
}

# Accepted for PyTorch compatibility only: deepgrad's steps never read them.
_NOT_STORED = ("capturable", "differentiable")

# Read only where there is a fused step to choose (see ``_fast_path``).
_FAST_PATH = ("foreach", "fused")


def constructor(
    numbers: dict[str, Any],
    switches: tuple[str, ...] = (),
    keyword_only: tuple[str, ...] = (),
    *,
    checks: tuple[str, ...],
    fixed: dict[str, Any] | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
    eager_state: bool = False,
) -> Callable[..., None]:
    """An optimiser's ``__init__(self, params, *numbers, *switches, *, *keyword_only)``.

    ``numbers`` maps the numeric hyper-parameters after ``params`` to this optimiser's defaults;
    ``switches`` names the switches that follow them and ``keyword_only`` those after the
    ``*``, all in PyTorch's order. The ``__init__`` checks the arguments named in ``checks``, in
    that order (PyTorch's), then calls ``check`` (the algorithm's own rules) with all of them,
    and hands ``Optimizer.__init__`` the defaults: every argument but the compatibility-only
    ones, plus ``fixed`` (values the class sets rather than takes). With ``eager_state`` it
    then makes every parameter's state at once, as PyTorch's Adagrad does, not on its first step.
    """
    parameters = [Parameter(name, Parameter.POSITIONAL_OR_KEYWORD) for name in ("self", "params")]
    parameters += [_parameter(name, default) for name, default in numbers.items()]
    parameters += [_parameter(name, _SWITCHES[name]) for name in switches]
    parameters += [
        _parameter(name, _SWITCHES[name], Parameter.KEYWORD_ONLY) for name in keyword_only
    ]
    signature = Signature(parameters, return_annotation="None")
    if not set(checks) <= set(numbers):
        raise ValueError(f"checks {checks} name arguments that are not among {list(numbers)}")

    def __init__(self, params, *args, **kwargs) -> None:
        try:
            bound = signature.bind(self, params, *args, **kwargs)
        except TypeError as error:  # Python's own wording, which names the class
            raise TypeError(f"{type(self).__name__}.__init__() {error}") from None
        bound.apply_defaults()
        arguments = {k: v for k, v in bound.arguments.items() if k not in ("self", "params")}
        arguments |= checked(**{name: arguments[name] for name in checks})
        if check is not None:
            check(arguments)
        _no_differentiable(arguments.get("differentiable", False))
        _fast_path(arguments.get("foreach"), arguments.get("fused"))
        has_fused_step = type(self)._fused_step is not Optimizer._fused_step
        defaults = {
            name: value
            for name, value in arguments.items()
            if name not in _NOT_STORED and (has_fused_step or name not in _FAST_PATH)
        }
        Optimizer.__init__(self, params, defaults | (fixed or {}))
        if eager_state:
            for group in self.param_groups:
                for p in group["params"]:
                    self._init_state(self.state[p], p._data, group)

    __init__.__signature__ = signature
    return __init__


def _parameter(name: str, default, kind=Parameter.POSITIONAL_OR_KEYWORD) -> Parameter:
    """One argument of the signature, typed as the tables say."""
    if name in _NUMBERS:
        annotation = _NUMBERS[name]
    else:
        annotation = "bool" if _SWITCHES[name] is not None else "bool | None"
    return Parameter(name, kind, default=default, annotation=annotation)


def checked(**values) -> dict[str, Any]:
    """``values`` after PyTorch's argument checks, in the order given and with its messages:
    ``betas`` in [0, 1) (made Python floats), ``rho`` in [0, 1], any other >= 0 (NaN fails)."""
    for name, value in values.items():
        if name == "betas":
            for i, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
            values[name] = tuple(float(beta) for beta in value)
        elif name == "rho" and not 0.0 <= value <= 1.0:
            raise ValueError(f"Invalid rho value: {value}")
        elif not 0.0 <= value:
            what = {"lr": "learning rate", "eps": "epsilon value"}.get(name, f"{name} value")
            raise ValueError(f"Invalid {what}: {value}")
    return values


def _fast_path(foreach: bool | None, fused: bool | None) -> None:
    """PyTorch's check of its ``foreach`` and ``fused`` arguments.

    deepgrad reads them as the choice between its two implementations of a step: the fused
    multi-threaded kernels (``deepgrad.kernels.optimizer_step``), used by default (None) and
    with ``True``, and the plain NumPy step, one operation at a time, used when one of them
    is ``False`` and neither is ``True`` (PyTorch's single-tensor loop). Both give the same
    numbers; the NumPy step also serves every case the kernels do not (float64, no kernels).
    Like PyTorch, the optimiser keeps them in its defaults (where it has a fused step).
    """
    if foreach and fused:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _no_differentiable(differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError(
            "differentiable=True is not supported: deepgrad's optimisers update raw arrays "
            "outside autograd, so gradients cannot flow through a step."
        )
