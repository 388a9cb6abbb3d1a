"""The same model trained with each optimizer of torch.optim, from identical initial weights."""

import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.randn(64, 5)
y = torch.tanh(X @ torch.randn(5, 1)) + 0.05 * torch.randn(64, 1)
init = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))

configs = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.1),
    "SGD momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    "SGD nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1),
    "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9),
    "Adam": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.99)),
    "AdamW": lambda p: torch.optim.AdamW(p, lr=0.01),
    "Adamax": lambda p: torch.optim.Adamax(p, lr=0.02),
    "Adadelta": lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9),
}
for name, make in configs.items():
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
    model.load_state_dict(init.state_dict())
    optimizer = make(model.parameters())
    for step in range(25):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
    print(f"{name:13s} {loss.item():.5f} {model[0].weight[0, 0].item():.5f}")

model = nn.Linear(5, 1)
optimizer = torch.optim.SGD(
    [{"params": model.weight}, {"params": model.bias, "lr": 0.5}], lr=0.1, momentum=0.5
)
print([g["lr"] for g in optimizer.param_groups], len(optimizer.param_groups))
for group in optimizer.param_groups:
    group["lr"] *= 0.1
print([round(g["lr"], 4) for g in optimizer.param_groups])
optimizer.add_param_group({"params": nn.Parameter(torch.zeros(2)), "lr": 0.2})
print(len(optimizer.param_groups), optimizer.param_groups[2]["momentum"])
