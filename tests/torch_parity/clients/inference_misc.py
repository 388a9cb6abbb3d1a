"""inference_mode, set_default_device, legacy LongTensor, unique, square, clip, randn_like,
randperm, std_mean and in-place mul_."""

import torch
import torch.nn as nn

torch.set_default_device("cpu")
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1))
x = torch.randn(5, 4)
with torch.inference_mode():
    out = model(x)
print(out, out.requires_grad)
print(out.exp().sum(dim=1))
labels = torch.LongTensor([2, 0, 2, 1, 0])
print(labels, labels.dtype, torch.unique(labels), torch.unique(labels, return_counts=True))
print(torch.square(torch.tensor([1.5, -2.0])), torch.tensor([-3.0, 0.5, 3.0]).clip(-1, 1))
noise = torch.randn_like(x)
print(tuple(noise.shape), noise.dtype, noise[0])
perm = torch.randperm(6)
print(perm, sorted(perm.tolist()))
std, mean = torch.std_mean(x, dim=0)
print(std, mean)
w = torch.ones(3)
w.mul_(2.5).sub_(1).div_(2)
print(w)
nll = nn.NLLLoss()
print(round(nll(model(x), labels).item(), 5))
with torch.inference_mode():
    print(torch.is_grad_enabled())
