"""Regularisation: weight_decay in SGD and AdamW, and an L1 penalty added by hand."""

import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.randn(50, 10)
y = X[:, :2].sum(dim=1, keepdim=True) + 0.1 * torch.randn(50, 1)
init = nn.Linear(10, 1)


def fresh():
    model = nn.Linear(10, 1)
    model.load_state_dict(init.state_dict())
    return model


for name, make in [
    ("plain", lambda p: torch.optim.SGD(p, lr=0.05)),
    ("sgd_wd", lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1)),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.5)),
    ("adam_wd", lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.1)),
]:
    model = fresh()
    opt = make(model.parameters())
    for _ in range(40):
        opt.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        opt.step()
    print(name, round(model.weight.norm().item(), 4), round(model.weight.abs().sum().item(), 4))

model = fresh()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
l1_lambda = 0.05
for epoch in range(40):
    opt.zero_grad()
    mse = nn.functional.mse_loss(model(X), y)
    l1_norm = sum(p.abs().sum() for p in model.parameters())
    loss = mse + l1_lambda * l1_norm
    loss.backward()
    opt.step()
print("l1", round(loss.item(), 4), (model.weight.abs() < 0.05).sum().item())
l2 = sum(p.pow(2.0).sum() for name, p in model.named_parameters() if "bias" not in name)
print(round(l2.item(), 4))
