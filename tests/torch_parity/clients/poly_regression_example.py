"""Polynomial regression in the manner of pytorch/examples: features by torch.cat of powers,
a Linear layer fitted with F.smooth_l1_loss until the loss is small."""

import torch
import torch.nn.functional as F

POLY_DEGREE = 3
torch.manual_seed(0)
W_target = torch.randn(POLY_DEGREE, 1) * 2
b_target = torch.randn(1) * 2


def make_features(x):
    x = x.unsqueeze(1)
    return torch.cat([x**i for i in range(1, POLY_DEGREE + 1)], 1)


def f(x):
    return x.mm(W_target) + b_target.item()


def poly_desc(W, b):
    result = "y = "
    for i, w in enumerate(W):
        result += f"{w:+.2f} x^{i + 1} "
    result += f"{b[0]:+.2f}"
    return result


def get_batch(batch_size=32):
    random = torch.randn(batch_size)
    x = make_features(random)
    y = f(x)
    return x, y


fc = torch.nn.Linear(W_target.size(0), 1)
for batch_idx in range(1, 301):
    batch_x, batch_y = get_batch()
    fc.zero_grad()
    output = F.smooth_l1_loss(fc(batch_x), batch_y)
    loss = output.item()
    output.backward()
    for param in fc.parameters():
        param.data.add_(-0.1 * param.grad)
    if loss < 1e-3:
        break
print(f"Loss: {loss:.6f} after {batch_idx} batches")
print("==> Learned function:\t" + poly_desc(fc.weight.view(-1), fc.bias))
print("==> Actual function:\t" + poly_desc(W_target.view(-1), b_target))
print(round(F.smooth_l1_loss(torch.tensor([0.5, 3.0]), torch.zeros(2), beta=1.0).item(), 4))
print(
    round(
        F.smooth_l1_loss(
            torch.tensor([0.5, 3.0]), torch.zeros(2), reduction="sum", beta=2.0
        ).item(),
        4,
    )
)
