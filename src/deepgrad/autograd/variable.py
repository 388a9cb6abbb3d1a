"""``Variable``: PyTorch's pre-0.4 wrapper, today just a tensor (kept for old tutorials)."""

from __future__ import annotations

from deepgrad.tensor import Tensor


def Variable(data, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """Return ``data`` as a tensor that records gradients when ``requires_grad``, as
    ``torch.autograd.Variable`` does since PyTorch 0.4 (Variables and tensors merged)."""
    out = data.detach() if isinstance(data, Tensor) else Tensor(data)
    return out.requires_grad_(requires_grad)
