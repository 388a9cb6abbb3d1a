"""Loss functions as modules (``nn.CrossEntropyLoss()``, ...), with PyTorch's arguments.

Each module takes the options of its functional form (``_function``; see
``FunctionalModule``), keeps them under the function's argument names and calls the function
with them. ``reduction`` is checked when the module is built, and translated from the legacy
``size_average``/``reduce`` flags; weights are registered buffers, as in PyTorch, so they follow
``.double()`` and are saved in ``state_dict``.
"""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn._losses import _reduction
from deepgrad.nn.modules._functional_module import FunctionalModule
from deepgrad.tensor import Tensor

_WEIGHTS = ("weight", "pos_weight")  # tensors of the loss: buffers


class _Loss(FunctionalModule):
    """PyTorch's base of the losses."""

    _inputs = 2  # input, target
    _extra_reductions: tuple[str, ...] = ()

    def _keep(self, options: dict) -> None:
        size_average, reduce = options.pop("size_average", None), options.pop("reduce", None)
        options["reduction"] = _reduction(
            type(self).__name__, size_average, reduce, options["reduction"], self._extra_reductions
        )
        for name in _WEIGHTS:
            if name in options:
                self.register_buffer(name, options[name])
        super()._keep(options)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(input, target)


class MSELoss(_Loss):
    """Mean squared error: mean((x - y)^2) (the course's J = 1/(2m) sum (h - y)^2 is this
    loss divided by 2, which only rescales the gradient)."""

    _function = staticmethod(F.mse_loss)
    _left_out = ("weight",)  # F.mse_loss takes one, nn.MSELoss does not (as in PyTorch)


class L1Loss(_Loss):
    """Mean absolute error: mean(|x - y|)."""

    _function = staticmethod(F.l1_loss)
    _left_out = ("weight",)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities p (after a sigmoid):

        loss = -mean(w [y log p + (1 - y) log(1 - p)]),  each log clamped at -100 (as PyTorch)

    Beyond PyTorch: inputs outside [0, 1] raise an error that says the sigmoid is missing.
    Prefer ``BCEWithLogitsLoss`` on raw scores: it is stabler.
    """

    _function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable step, on logits z:

        loss = (1 - y) z + (1 + (p - 1) y) log(1 + e^-z),  p = pos_weight (default 1)

    ``pos_weight`` > 1 weighs the positive examples more (for unbalanced data).
    """

    _function = staticmethod(F.binary_cross_entropy_with_logits)


class CrossEntropyLoss(_Loss):
    """Softmax + negative log-likelihood on logits, as one stable op (no ``nn.Softmax``
    before it):

        loss_i = logsumexp(z_i) - z_{i, y_i}     (class index targets)
        loss_i = -sum_c q_ic log softmax(z_i)_c   (class probability targets q)

    Input (N, C) or (N, C, d1, ...); target class indices (N,) / (N, d1, ...), or
    probabilities with the input's shape. ``weight`` (C,), ``ignore_index`` and
    ``label_smoothing`` as PyTorch. The gradient is softmax(z) - target.

    Beyond PyTorch: warns on "double softmax" (rows that are already probabilities), and
    explains one-hot targets where indices were expected and labels out of range.
    """

    _function = staticmethod(F.cross_entropy)


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities: loss_i = -w_{y_i} x_{i, y_i} (use after
    ``nn.LogSoftmax(dim=1)``)."""

    _function = staticmethod(F.nll_loss)


class MultiMarginLoss(_Loss):
    """Multiclass hinge loss (multiclass SVM) on class scores x (N, C), targets y (N,):

    loss_i = (1/C) sum_{j != y_i} w_{y_i} max(0, margin - x_{i, y_i} + x_ij)^p
    """

    _function = staticmethod(F.multi_margin_loss)

    def _keep(self, options: dict) -> None:
        if options["p"] not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        super()._keep(options)


class HingeEmbeddingLoss(_Loss):
    """x_i where y_i = 1, max(0, margin - x_i) where y_i = -1 (PyTorch's definition, meant for
    distances between embeddings).

    Recipe, the course's binary hinge loss max(0, 1 - t y) for labels t in {-1, +1} and a
    raw score y (e.g. the output of ``nn.Linear(d, 1)``): every example then uses the
    "y = -1" branch applied to the product t * y, so

        loss = nn.HingeEmbeddingLoss(margin=1.0)(t * y, -torch.ones_like(t))

    equals mean(max(0, 1 - t y)). The same in one line: ``F.relu(1 - t * y).mean()``. For
    more than two classes, use ``nn.MultiMarginLoss``. Labels 0/1 become -1/+1 with
    ``t = 2 * labels - 1``.
    """

    _function = staticmethod(F.hinge_embedding_loss)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence KL(target || p) with the input given as log p:

        loss = sum target (log target - input)   (log_target=True: target as log-probs)

    ``reduction='batchmean'`` gives the true KL per sample (sum / batch size). The default
    'mean' (kept for PyTorch compatibility) also divides by the number of classes and warns.
    """

    _function = staticmethod(F.kl_div)
    _extra_reductions = ("batchmean",)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss, quadratic for |x - y| < beta and linear beyond (see F.smooth_l1_loss)."""

    _function = staticmethod(F.smooth_l1_loss)


class HuberLoss(_Loss):
    """Huber loss, quadratic for |x - y| <= delta and linear beyond (see F.huber_loss)."""

    _function = staticmethod(F.huber_loss)
    _left_out = ("weight",)


class CosineEmbeddingLoss(_Loss):
    """Pull pairs together (target 1) or push them apart (target -1): 1 - cos(x1, x2) for
    target 1, max(0, cos(x1, x2) - margin) for -1 (see ``F.cosine_embedding_loss``)."""

    _function = staticmethod(F.cosine_embedding_loss)
    _inputs = 3  # input1, input2, target

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return self._call(input1, input2, target)
