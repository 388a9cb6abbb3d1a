"""Full-batch gradient descent with an optional backtracking (Armijo) line search."""

from __future__ import annotations

import warnings

import numpy as np

from deepgrad.optim.hyperparameters import checked
from deepgrad.optim.optimizer import Optimizer, _floats

_LINE_SEARCHES = (None, "armijo", "backtracking")


class GD(Optimizer):
    r"""Gradient descent on the full objective, with an optional backtracking line search.

    Without a line search this is the course's update with a fixed step length (learning
    rate) :math:`\gamma`, the same as ``SGD`` without momentum::

        g = grad F(x)                       # F = f + (lambda / 2) * ||x||^2 with weight decay
        x <- x - gamma * g

    With ``line_search_fn="armijo"`` the step length is chosen anew at every step by
    backtracking, starting from :math:`t = \gamma` (the ``lr``)::

        g = grad F(x)
        t = gamma
        while F(x - t g) > F(x) - c * t * ||g||^2:      # Armijo's sufficient-decrease rule
            t = beta * t
        x <- x - t g

    i.e. shrink :math:`t` by :math:`\beta` until :math:`F(x - t g) \le F(x) - c\,t\,\|g\|^2`.
    For a smooth objective some small enough :math:`t` always passes, so every accepted step
    decreases the loss; ``lr`` should then be the *largest* step worth trying (1.0 is common).
    All parameters are treated as one vector :math:`x`, so the line search needs a single
    parameter group.

    Each trial point costs one call of ``closure`` (a forward and a backward pass: the
    closure is user code, so deepgrad cannot skip its ``backward()``). After ``step`` the
    parameters' ``.grad`` therefore hold the gradient at the accepted point. The loss must be
    deterministic (full batch, no dropout), or the comparison means nothing. If no trial
    passes within ``max_ls`` tries, the parameters are left unchanged and a warning says so.

    The accepted step length of the last step is ``optimizer.state[p0]["step_size"]`` (``p0``
    the first parameter), next to ``"step"`` and ``"func_evals"`` counters, as in LBFGS.

    Not in PyTorch; the signature follows ``torch.optim.LBFGS``'s ``line_search_fn``.

    Args:
        params: tensors (or parameter groups, without line search) to optimise.
        lr: the fixed step length, or the first step tried by the line search (default 1e-3).
        weight_decay: L2 penalty :math:`\lambda`, added to the gradient as in ``SGD`` (and to
            the objective the line search compares).
        line_search_fn: ``None`` (fixed step) or ``"armijo"`` (alias ``"backtracking"``).
        beta: factor in (0, 1) by which a rejected step is shrunk (default 0.5).
        c: sufficient-decrease constant in (0, 1) (default 1e-4).
        max_ls: most trial steps per ``step()`` (default 50).
        maximize: maximise the objective instead of minimising it.

    Example::

        opt = deepgrad.optim.GD(model.parameters(), lr=1.0, line_search_fn="armijo")

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            return loss

        for _ in range(100):
            opt.step(closure)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        weight_decay: float = 0,
        line_search_fn: str | None = None,
        beta: float = 0.5,
        c: float = 1e-4,
        max_ls: int = 50,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = checked(lr=lr, weight_decay=weight_decay)
        if line_search_fn not in _LINE_SEARCHES:
            raise ValueError(
                f"GD: unknown line_search_fn {line_search_fn!r}; use None (fixed step length) "
                "or 'armijo' (backtracking)"
            )
        if not 0.0 < beta < 1.0:
            raise ValueError(f"Invalid beta value: {beta} (the shrink factor must be in (0, 1))")
        if not 0.0 < c < 1.0:
            raise ValueError(f"Invalid c value: {c} (the Armijo constant must be in (0, 1))")
        if int(max_ls) < 1:
            raise ValueError(f"Invalid max_ls value: {max_ls} (at least one trial step)")
        defaults.update(line_search_fn=line_search_fn, beta=beta, c=c, max_ls=int(max_ls))
        super().__init__(params, defaults | {"maximize": maximize})
        self._ls_buffers: dict = {}

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._ls_buffers = {}

    def step(self, closure=None):
        """One gradient step (with line search if configured); returns the closure's loss.

        With a line search this is the loss at the starting point, as LBFGS returns it.
        """
        if any(g["line_search_fn"] is not None for g in self.param_groups):
            return self._armijo_step(closure)
        return super().step(closure)

    def _update(self, x, g, state, group) -> None:
        """g = grad (+ lambda theta);  theta = theta - gamma g."""
        lr, weight_decay = _floats(group, "lr", "weight_decay")
        d = self._direction(x, g, weight_decay, group["maximize"])
        x -= np.multiply(d, lr, out=self._tmp(x, 0))

    def _state_of(self, p, group):
        return None  # a fixed step keeps no state

    def _armijo_step(self, closure):
        if closure is None:
            raise RuntimeError(
                "GD(line_search_fn='armijo').step() needs a closure that re-evaluates the "
                "loss: def closure(): opt.zero_grad(); loss = loss_fn(model(X), y); "
                "loss.backward(); return loss  - then call opt.step(closure)"
            )
        if len(self.param_groups) != 1:
            raise ValueError(
                "GD's line search treats all parameters as one vector, so it supports a single "
                f"parameter group, but this optimizer has {len(self.param_groups)}"
            )
        group = self.param_groups[0]
        lr = float(group["lr"])
        weight_decay = float(group["weight_decay"])
        beta = float(group["beta"])
        c = float(group["c"])
        max_ls = int(group["max_ls"])
        sign = -1.0 if group["maximize"] else 1.0

        loss = self._eval_closure(closure)
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return loss
        # The start point and the direction must survive the closure's zero_grad/backward, so
        # they live in per-parameter buffers allocated once.
        starts, directions = [], []
        for p in params:
            x = p._data
            bufs = self._ls_buffers.get(p)
            if bufs is None or bufs[0].shape != x.shape or bufs[0].dtype != x.dtype:
                bufs = (np.empty_like(x), np.empty_like(x))
                self._ls_buffers[p] = bufs
            x0, d = bufs
            np.copyto(x0, x)
            np.copyto(d, self._direction(x, p.grad._data, weight_decay, group["maximize"]))
            starts.append(x0)
            directions.append(d)

        f0 = sign * float(loss) + _half_sq_norm(starts, weight_decay)
        gnorm2 = sum(float(np.vdot(d, d)) for d in directions)
        st = self.state[group["params"][0]]
        st["step"] = st.get("step", 0) + 1
        st.setdefault("func_evals", 0)
        st["func_evals"] += 1
        if gnorm2 == 0.0:  # a stationary point: nothing to do
            st["step_size"] = 0.0
            return loss

        t = lr
        for _ in range(max_ls):
            for p, x0, d in zip(params, starts, directions):
                np.multiply(d, -t, out=p._data)
                p._data += x0
            ft = sign * float(self._eval_closure(closure))
            ft += _half_sq_norm([p._data for p in params], weight_decay)
            st["func_evals"] += 1
            if ft <= f0 - c * t * gnorm2:  # False for NaN, so an overflow also backtracks
                st["step_size"] = t
                return loss
            t *= beta

        for p, x0 in zip(params, starts):
            np.copyto(p._data, x0)
        self._eval_closure(closure)  # leave .grad consistent with the restored parameters
        st["func_evals"] += 1
        st["step_size"] = 0.0
        warnings.warn(
            f"GD line search: no step length in [{lr} * {beta}^{max_ls - 1}, {lr}] decreased the "
            f"loss enough (Armijo, c={c}); the parameters were left unchanged. Check that the "
            "closure calls zero_grad() before backward() and computes a deterministic full-batch "
            "loss, or raise max_ls.",
            RuntimeWarning,
            stacklevel=3,
        )
        return loss


def _half_sq_norm(arrays, weight_decay: float) -> float:
    if not weight_decay:
        return 0.0
    return 0.5 * weight_decay * sum(float(np.vdot(a, a)) for a in arrays)
