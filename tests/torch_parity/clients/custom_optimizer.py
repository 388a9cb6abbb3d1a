"""A custom optimizer subclassing torch.optim.Optimizer: defaults, param_groups, state."""

import torch
import torch.nn as nn


class SignSGD(torch.optim.Optimizer):
    """Steps by the sign of a momentum buffer: m = beta m + (1 - beta) g; p -= lr sign(m)."""

    def __init__(self, params, lr=0.01, beta=0.9):
        if lr <= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, beta=beta)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["momentum"] = torch.zeros_like(p)
                state["step"] += 1
                m = state["momentum"]
                m.mul_(group["beta"]).add_(p.grad, alpha=1 - group["beta"])
                p.add_(torch.sign(m), alpha=-group["lr"])
        return loss


torch.manual_seed(0)
X = torch.randn(40, 3)
y = X @ torch.tensor([[0.5], [-1.0], [2.0]])
model = nn.Linear(3, 1)
optimizer = SignSGD(model.parameters(), lr=0.05)
print(optimizer.defaults, len(optimizer.param_groups), len(optimizer.param_groups[0]["params"]))
for step in range(30):

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    if step % 10 == 9:
        print(step, round(loss.item(), 4))
state = optimizer.state[model.weight]
print(state["step"], state["momentum"])
print(model.weight.detach(), model.bias.detach())
try:
    SignSGD(model.parameters(), lr=-1)
except ValueError as e:
    print("ValueError:", e)
