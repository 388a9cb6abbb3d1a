"""A general checkpoint: model and optimizer state_dicts, epoch, loss; resuming goes on exactly."""

import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)
X = torch.randn(64, 3)
y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3


def make():
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    return net, optim.Adam(net.parameters(), lr=0.01)


def run(net, opt, epochs):
    for _ in range(epochs):
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(X), y)
        loss.backward()
        opt.step()
    return loss.item()


torch.manual_seed(1)
net, optimizer = make()
loss = run(net, optimizer, 10)
torch.save(
    {
        "epoch": 10,
        "model_state_dict": net.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": loss,
    },
    "checkpoint.tar",
)
straight = run(net, optimizer, 10)

torch.manual_seed(2)
net2, optimizer2 = make()
checkpoint = torch.load("checkpoint.tar", weights_only=True)
net2.load_state_dict(checkpoint["model_state_dict"])
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
epoch, saved_loss = checkpoint["epoch"], checkpoint["loss"]
net2.train()
resumed = run(net2, optimizer2, 10)
print(epoch, round(saved_loss, 5), round(straight, 5), round(resumed, 5), straight == resumed)
state = optimizer2.state_dict()
print(sorted(state.keys()), state["param_groups"][0]["lr"], state["param_groups"][0]["params"])
print(int(state["state"][0]["step"]), sorted(state["state"][0].keys()))
