"""``deepgrad.autograd.functional``: Jacobians and vector-Jacobian products of functions."""

from __future__ import annotations

from deepgrad.autograd.grad_mode import enable_grad
from deepgrad.tensor import Tensor


def _inputs(inputs):
    single = isinstance(inputs, Tensor)
    items = (inputs,) if single else tuple(inputs)
    return single, tuple(x.detach().requires_grad_() for x in items)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the gradient of sum(v * func(inputs)) with respect to inputs."""
    from deepgrad.autograd import grad

    single, xs = _inputs(inputs)
    with enable_grad():
        out = func(*xs)
        grads = grad((out * v).sum() if v is not None else out.sum(), xs)
    return out.detach(), grads[0] if single else grads


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):  # fmt: skip
    """d func(inputs) / d inputs, shaped output.shape + input.shape (one backward per output)."""
    from deepgrad.autograd import grad
    from deepgrad.functions import stack

    single, xs = _inputs(inputs)
    with enable_grad():
        out = func(*xs)
        flat = out.reshape(-1)
        rows = []
        for i in range(flat.shape[0]):
            rows.append(list(grad(flat[i], xs, retain_graph=True)))
    jac = tuple(
        stack([row[j] for row in rows]).reshape(*out.shape, *xs[j].shape) for j in range(len(xs))
    )
    return jac[0] if single else jac
