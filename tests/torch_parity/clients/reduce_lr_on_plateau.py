"""ReduceLROnPlateau driven by a validation loss that stops improving."""

import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)
model = nn.Linear(2, 1)
optimizer = optim.SGD(model.parameters(), lr=0.5)
scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
val_losses = [1.0, 0.8, 0.79, 0.81, 0.82, 0.83, 0.7, 0.71, 0.72, 0.73]
for epoch, val_loss in enumerate(val_losses):
    optimizer.step()
    scheduler.step(val_loss)
    print(epoch, val_loss, optimizer.param_groups[0]["lr"])
print(scheduler.state_dict()["best"], scheduler.state_dict()["num_bad_epochs"])

model = nn.Linear(2, 1)
optimizer = optim.Adam(model.parameters(), lr=0.1)
scheduler = optim.lr_scheduler.ReduceLROnPlateau(
    optimizer, "max", factor=0.1, patience=0, min_lr=0.001
)
for acc in [0.5, 0.6, 0.6, 0.55, 0.7, 0.7, 0.7]:
    scheduler.step(acc)
    print(round(optimizer.param_groups[0]["lr"], 6), end=" ")
print()
