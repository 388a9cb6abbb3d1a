"""nn.Sequential, an OrderedDict Sequential and a subclassed Module computing the same function."""

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(5, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, X):
        return self.out(F.relu(self.hidden(X)))


torch.manual_seed(0)
seq = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
named = nn.Sequential(
    OrderedDict([("hidden", nn.Linear(5, 8)), ("act", nn.ReLU()), ("out", nn.Linear(8, 2))])
)
mlp = MLP()
with torch.no_grad():
    for target in (named, mlp):
        target.hidden.weight.copy_(seq[0].weight)
        target.hidden.bias.copy_(seq[0].bias)
        target.out.weight.copy_(seq[2].weight)
        target.out.bias.copy_(seq[2].bias)

X = torch.rand(3, 5)
for model in (seq, named, mlp):
    print(type(model).__name__, model(X).detach())
print(torch.equal(seq(X), mlp(X)), torch.allclose(named(X), mlp(X)))
print(named.hidden, named[0] is named.hidden, len(seq), list(seq.state_dict().keys()))
print(list(mlp.state_dict().keys()))
print(seq[-1], seq[0:2])
for child in mlp.children():
    print(child)
print([name for name, _ in seq.named_modules()])
