"""torch.where, clamp, one_hot and the (values, indices) pair from torch.max."""

import torch
import torch.nn.functional as F

torch.manual_seed(3)
x = torch.randn(4, 5)
print(torch.where(x > 0, x, torch.zeros_like(x)))
print(torch.where(x > 0, 1.0, -1.0))
print(torch.clamp(x, min=-0.5, max=0.5))
print(x.clamp(min=0))
values, indices = torch.max(x, 1)
print(values, indices)
_, predicted = torch.max(x.data, 1)
print(predicted)
print(torch.max(x, dim=0).indices, x.max(dim=1).values)
print(x.argmax(dim=1), x.argmax(axis=0), x.max().item() == values.max().item())
labels = torch.tensor([0, 2, 1, 3])
oh = F.one_hot(labels, num_classes=4)
print(oh, oh.dtype)
print(F.one_hot(torch.tensor([1, 0, 2])))
print((predicted == labels).sum().item(), (predicted == labels).float().mean().item())
print(torch.min(x, 1)[1], torch.round(x * 2))
print(torch.topk(x[0], 2).indices)
