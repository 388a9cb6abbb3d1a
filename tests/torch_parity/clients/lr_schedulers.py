"""Learning-rate schedulers stepped once per epoch: StepLR, MultiStepLR, ExponentialLR,
CosineAnnealingLR, LambdaLR; get_last_lr() and the optimizer's param_groups."""

import torch
import torch.nn as nn
from torch.optim import lr_scheduler

torch.manual_seed(0)
X, y = torch.randn(32, 4), torch.randn(32, 1)
makers = {
    "StepLR": lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.1),
    "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.001),
    "LambdaLR": lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda epoch: 0.95**epoch),
}
for name, make in makers.items():
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = make(optimizer)
    lrs = []
    for epoch in range(7):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        lrs.append(round(scheduler.get_last_lr()[0], 6))
    print(name, lrs, round(optimizer.param_groups[0]["lr"], 6), round(loss.item(), 4))
