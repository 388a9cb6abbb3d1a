"""Gradient clipping by norm and by value inside a training loop."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
X, y = torch.randn(32, 4) * 5, torch.randn(32, 1) * 10
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(4):
    optimizer.zero_grad()
    loss = nn.MSELoss()(model(X), y)
    loss.backward()
    total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    clipped = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))
    optimizer.step()
    print(step, round(loss.item(), 4), round(float(total_norm), 4), round(clipped.item(), 4))

optimizer.zero_grad()
nn.MSELoss()(model(X), y).backward()
nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
print(max(p.grad.abs().max().item() for p in model.parameters()))
print(model[0].bias.grad)
norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.01, norm_type=2.0)
print(
    round(norm.item(), 5),
    round(sum(p.grad.norm() ** 2 for p in model.parameters()).sqrt().item(), 5),
)
