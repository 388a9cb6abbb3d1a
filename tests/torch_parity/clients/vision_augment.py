"""Training-time augmentation: RandomHorizontalFlip and RandomCrop with padding in a Compose."""

import torch
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

torch.manual_seed(0)
train_tf = transforms.Compose(
    [
        transforms.ToTensor(),
        transforms.RandomHorizontalFlip(p=1.0),
        transforms.RandomCrop(28, padding=2),
        transforms.Normalize((0.2860,), (0.3530,)),
    ]
)
data = datasets.FashionMNIST("data", train=False, download=False, transform=train_tf)
plain = datasets.FashionMNIST("data", train=False, download=False, transform=transforms.ToTensor())
x, _ = data[0]
p, _ = plain[0]
print(tuple(x.shape), x.dtype)
flipped = transforms.RandomHorizontalFlip(p=1.0)(p)
print(torch.equal(flipped[..., 0], p[..., -1]), torch.equal(flipped[..., 5], p[..., 22]))
print(torch.equal(transforms.RandomHorizontalFlip(p=0.0)(p), p))
crop = transforms.RandomCrop(20)(p)
print(tuple(crop.shape))
padded = transforms.RandomCrop(28, padding=4)(p)
print(tuple(padded.shape), round(padded.sum().item(), 3) <= round(p.sum().item(), 3))
loader = DataLoader(Subset(data, range(8)), batch_size=4)
print([tuple(b.shape) for b, _ in loader])
crops = [transforms.RandomCrop(16, padding=2)(p) for _ in range(6)]
print([round(c.sum().item(), 3) for c in crops])
flips = [torch.equal(transforms.RandomHorizontalFlip()(p), p) for _ in range(6)]
print(flips)
