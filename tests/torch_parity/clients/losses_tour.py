"""The loss functions tutorials use, as modules and as functions, with their reductions."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
logits = torch.randn(4, 3, requires_grad=True)
target = torch.tensor([0, 2, 1, 2])
print(round(nn.CrossEntropyLoss()(logits, target).item(), 5))
print(F.cross_entropy(logits, target, reduction="none").detach())
print(round(F.cross_entropy(logits, target, label_smoothing=0.1).item(), 5))
print(round(F.nll_loss(F.log_softmax(logits, dim=1), target).item(), 5))
print(round(nn.NLLLoss(reduction="sum")(torch.log_softmax(logits, 1), target).item(), 5))
pred, true = torch.randn(5), torch.randn(5)
print(
    round(F.mse_loss(pred, true).item(), 5),
    round(nn.MSELoss(reduction="sum")(pred, true).item(), 5),
)
print(round(F.l1_loss(pred, true).item(), 5), round(nn.L1Loss()(pred, true).item(), 5))
print(
    round(nn.SmoothL1Loss()(pred, true).item(), 5),
    round(nn.HuberLoss(delta=0.5)(pred, true).item(), 5),
)
p = torch.sigmoid(torch.randn(5))
t = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
print(
    round(nn.BCELoss()(p, t).item(), 5),
    round(F.binary_cross_entropy_with_logits(torch.log(p / (1 - p)), t).item(), 4),
)
loss = F.cross_entropy(logits, target)
loss.backward()
print(logits.grad)
print(
    round(
        nn.KLDivLoss(reduction="batchmean")(
            F.log_softmax(logits.detach(), 1), F.softmax(torch.randn(4, 3), 1)
        ).item(),
        5,
    )
)
