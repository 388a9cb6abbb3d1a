"""Loss functions as modules (``nn.CrossEntropyLoss()``, ...), with PyTorch's arguments.

Each module stores its options and calls the function of the same name in
``nn.functional``; class weights are registered buffers, as in PyTorch, so they follow
``.double()`` and are saved in ``state_dict``.
"""

from __future__ import annotations

from deepgrad.nn import functional as F
from deepgrad.nn._losses import _reduction
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        extra = ("batchmean",) if isinstance(self, KLDivLoss) else ()
        self.reduction = _reduction(type(self).__name__, size_average, reduce, reduction, extra)


class _WeightedLoss(_Loss):
    def __init__(
        self, weight: Tensor | None = None, size_average=None, reduce=None, reduction="mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error: mean((x - y)^2) (the course's J = 1/(2m) sum (h - y)^2 is this
    loss divided by 2, which only rescales the gradient)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: mean(|x - y|)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities p (after a sigmoid):

        loss = -mean(w [y log p + (1 - y) log(1 - p)]),  each log clamped at -100 (as PyTorch)

    Beyond PyTorch: inputs outside [0, 1] raise an error that says the sigmoid is missing.
    Prefer ``BCEWithLogitsLoss`` on raw scores: it is stabler.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable step, on logits z:

        loss = (1 - y) z + (1 + (p - 1) y) log(1 + e^-z),  p = pos_weight (default 1)

    ``pos_weight`` > 1 weighs the positive examples more (for unbalanced data).
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class CrossEntropyLoss(_WeightedLoss):
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

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood on log-probabilities: loss_i = -w_{y_i} x_{i, y_i} (use after
    ``nn.LogSoftmax(dim=1)``)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input, target, weight=self.weight, ignore_index=self.ignore_index,
            reduction=self.reduction,
        )  # fmt: skip


class MultiMarginLoss(_WeightedLoss):
    """Multiclass hinge loss (multiclass SVM) on class scores x (N, C), targets y (N,):

    loss_i = (1/C) sum_{j != y_i} w_{y_i} max(0, margin - x_{i, y_i} + x_ij)^p
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(
            input, target, p=self.p, margin=self.margin, weight=self.weight,
            reduction=self.reduction,
        )  # fmt: skip


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

    def __init__(
        self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence KL(target || p) with the input given as log p:

        loss = sum target (log target - input)   (log_target=True: target as log-probs)

    ``reduction='batchmean'`` gives the true KL per sample (sum / batch size). The default
    'mean' (kept for PyTorch compatibility) also divides by the number of classes and warns.
    """

    def __init__(
        self,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss, quadratic for |x - y| < beta and linear beyond (see F.smooth_l1_loss)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss, quadratic for |x - y| <= delta and linear beyond (see F.huber_loss)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)
