"""Freezing a backbone with requires_grad_(False) and training only a new head."""

import torch
import torch.nn as nn

torch.manual_seed(0)
backbone = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU())
head = nn.Linear(8, 3)
model = nn.Sequential(backbone, head)
for param in backbone.parameters():
    param.requires_grad = False
backbone.requires_grad_(False)
print([p.requires_grad for p in model.parameters()])
before = [p.clone() for p in backbone.parameters()]
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
X, y = torch.randn(30, 6), torch.randint(0, 3, (30,))
for epoch in range(5):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    optimizer.step()
    print(epoch, round(loss.item(), 4))
print(all(torch.equal(a, b) for a, b in zip(before, backbone.parameters())))
print([p.grad is None for p in backbone.parameters()], head.weight.grad is not None)
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(trainable, sum(p.numel() for p in model.parameters()))
model.fc = nn.Linear(8, 5)
print(model.fc.weight.requires_grad, len(list(model.parameters())))
w = torch.ones(3, requires_grad=True)
print(w.detach().requires_grad, w.requires_grad_(False).requires_grad)
