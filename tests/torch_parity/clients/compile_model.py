"""torch.compile(model): the compiled model trains and predicts like the original."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 10), nn.GELU(), nn.Linear(10, 1))
compiled = torch.compile(model)
X = torch.randn(64, 3)
y = (X**2).sum(dim=1, keepdim=True)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
for step in range(30):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(compiled(X), y)
    loss.backward()
    optimizer.step()
    if step % 10 == 9:
        print(step, round(loss.item(), 4))
with torch.no_grad():
    print(torch.allclose(compiled(X), model(X)), compiled(X[:3]))


@torch.compile
def fused(a, b):
    return torch.sin(a) + torch.cos(b)


print(fused(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 2.0])))
