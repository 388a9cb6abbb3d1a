"""A torchvision-style data pipeline: Compose([ToTensor(), Normalize()]), FashionMNIST, Subset,
DataLoader, make_grid."""

import torchvision
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
test_data = datasets.FashionMNIST(root="data", train=False, download=False, transform=transform)
print(len(test_data), test_data.classes[:3])
image, label = test_data[0]
print(tuple(image.shape), image.dtype, label, type(label).__name__)
print(round(image.min().item(), 4), round(image.max().item(), 4), round(image.mean().item(), 4))

subset = Subset(test_data, range(64))
loader = DataLoader(subset, batch_size=16)
for X, y in loader:
    print(f"Shape of X [N, C, H, W]: {list(X.shape)}, y: {y.tolist()[:8]} {y.dtype}")
    break
total, count = 0.0, 0
for X, _ in loader:
    total += X.sum().item()
    count += X.numel()
print(round(total / count, 4))

grid = torchvision.utils.make_grid(X[:6], nrow=3, padding=2)
print(tuple(grid.shape), round(grid.mean().item(), 4))
grid = torchvision.utils.make_grid(X[:4], normalize=True, pad_value=1.0)
print(tuple(grid.shape), round(grid.min().item(), 4), round(grid.max().item(), 4))

plain = datasets.FashionMNIST(
    "data",
    train=False,
    transform=transforms.ToTensor(),
    target_transform=transforms.Lambda(lambda y: y + 100),
)
x0, y0 = plain[1]
print(round(x0.sum().item(), 3), y0, x0[0, 14, 10:16])
