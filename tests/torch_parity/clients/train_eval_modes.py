"""model.train() and model.eval(): dropout and batch norm behave differently; no_grad evaluation."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(6, 2)
)
x = torch.randn(5, 4)
print(model.training, model[3].training)
model.train()
a = model(x)
b = model(x)
print(torch.equal(a, b), model[1].num_batches_tracked.item())
print(model[1].running_mean, model[1].running_var)
model.eval()
print(model.training, model[3].training)
with torch.no_grad():
    c = model(x)
    d = model(x)
print(torch.equal(c, d), c.requires_grad, c)
drop = nn.Dropout(0.4)
t = torch.ones(2, 5)
out = drop(t)
print(out, (out == 0).sum().item())
drop.eval()
print(drop(t))
print(torch.is_grad_enabled())
with torch.no_grad():
    print(torch.is_grad_enabled())
torch.set_grad_enabled(False)
print((x * 2).requires_grad, torch.is_grad_enabled())
torch.set_grad_enabled(True)
model.train(False)
print(model.training)
