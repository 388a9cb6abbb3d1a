"""Initialising a network: model.apply(init_weights) with nn.init functions."""

import torch
import torch.nn as nn


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        m.bias.data.fill_(0.01)
    elif isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(m.bias)


torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
net.apply(init_weights)
print(net[3].bias, net[0].bias)
print(net[0].weight[0, 0].detach())
print(net[3].weight[:, :4].detach())

layer = nn.Linear(4, 3)
nn.init.constant_(layer.weight, 0.5)
nn.init.ones_(layer.bias)
print(layer.weight.sum().item(), layer.bias)
nn.init.normal_(layer.weight, mean=0.0, std=0.02)
nn.init.uniform_(layer.bias, -0.1, 0.1)
print(layer.weight.detach(), layer.bias.detach())
nn.init.kaiming_uniform_(layer.weight, a=0)
nn.init.xavier_normal_(layer.weight, gain=nn.init.calculate_gain("tanh"))
print(layer.weight.detach(), round(nn.init.calculate_gain("relu"), 6))
with torch.no_grad():
    layer.weight.zero_()
    nn.init.eye_(layer.weight)
print(layer.weight)
print(layer(torch.ones(1, 4)).detach())
