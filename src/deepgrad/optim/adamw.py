"""AdamW: Adam with decoupled weight decay."""

from __future__ import annotations

from deepgrad.optim.adam import Adam
from deepgrad.optim.hyperparameters import constructor


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Adam's L2 penalty is added to the gradient and so gets divided by the adaptive denominator:
    weights with large gradients are barely regularised. AdamW instead shrinks the weights
    directly, outside the adaptive update: in ``Adam``'s algorithm, the weight-decay line
    becomes :math:`\theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1}`
    and the gradient is left as it is.

    The decay is multiplied by the learning rate, as in PyTorch (the paper's schedule
    multiplier), so a learning-rate scheduler scales it too. Same as
    ``Adam(..., decoupled_weight_decay=True)``, with ``weight_decay`` defaulting to 1e-2.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate :math:`\gamma` (default 1e-3).
        betas: :math:`(\beta_1, \beta_2)` (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: decoupled weight decay :math:`\lambda` (default 1e-2).
        amsgrad: use the maximum of past second moments (default False).
        maximize: maximise the objective instead of minimising it.
        foreach, fused: None (default) or True runs float32 groups as one fused multi-threaded
            pass, False the plain NumPy step; the numbers are the same (see ``SGD``).
        capturable, differentiable: accepted for PyTorch compatibility.
    """

    __init__ = constructor(
        dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
        switches=("amsgrad",),
        keyword_only=("maximize", "foreach", "capturable", "differentiable", "fused"),
        checks=("lr", "eps", "betas", "weight_decay"),
        fixed=dict(decoupled_weight_decay=True),
    )

    def load_state_dict(self, state_dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decouples, whatever was saved
            group["decoupled_weight_decay"] = True
