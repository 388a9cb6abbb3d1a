"""Less common image layers: Conv1d, InstanceNorm2d, ReflectionPad2d, PixelShuffle, Identity,
Dropout2d in eval mode, F.interpolate, F.avg_pool2d/avg_pool1d, orthogonal_ and
CosineEmbeddingLoss."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
signal = torch.randn(2, 3, 10)
conv1d = nn.Conv1d(3, 4, kernel_size=3, padding=1)
print(tuple(conv1d(signal).shape), tuple(F.avg_pool1d(signal, 2).shape))
img = torch.arange(16.0).reshape(1, 1, 4, 4)
print(nn.ReflectionPad2d(1)(img)[0, 0, :3])
print(F.avg_pool2d(img, 2), F.interpolate(img, scale_factor=2, mode="nearest")[0, 0, :2])
ps = nn.PixelShuffle(2)
print(tuple(ps(torch.randn(1, 8, 3, 3)).shape), ps(torch.arange(4.0).reshape(1, 4, 1, 1)))
norm = nn.InstanceNorm2d(2)
out = norm(torch.randn(3, 2, 4, 4))
print(out.mean(dim=(2, 3)).abs().max().item() < 1e-5, tuple(out.shape))
block = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Identity(), nn.Dropout2d(0.5))
block.eval()
print(torch.equal(block(img), block[0](img)), block[1])
a, b = torch.randn(4, 6), torch.randn(4, 6)
target = torch.tensor([1, -1, 1, -1])
print(round(nn.CosineEmbeddingLoss(margin=0.1)(a, b, target).item(), 5))
# last: torch draws orthogonal_'s matrix through normal_, deepgrad straight from its generator
W = torch.empty(3, 5)
nn.init.orthogonal_(W)
print(torch.allclose(W @ W.T, torch.eye(3), atol=1e-5))
