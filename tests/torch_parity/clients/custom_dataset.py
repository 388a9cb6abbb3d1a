"""A custom Dataset (__len__/__getitem__ with a transform) and DataLoader's default collation."""

import torch
from torch.utils.data import DataLoader, Dataset


class SquaresDataset(Dataset):
    def __init__(self, n, transform=None, target_transform=None):
        self.x = torch.arange(n, dtype=torch.float32)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        value = self.x[idx].reshape(1)
        label = int(idx % 3)
        if self.transform:
            value = self.transform(value)
        if self.target_transform:
            label = self.target_transform(label)
        return value, label


class DictDataset(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"feature": torch.full((2,), float(i)), "index": i, "name": f"item{i}"}


ds = SquaresDataset(10, transform=lambda v: v**2)
print(len(ds), ds[3])
loader = DataLoader(ds, batch_size=4)
for features, labels in loader:
    print(features.squeeze(1).tolist(), labels, labels.dtype)
print(len(loader))
one_hot = SquaresDataset(
    6,
    target_transform=lambda y: torch.zeros(3, dtype=torch.float).scatter_(
        0, torch.tensor(y), value=1
    ),
)
print(next(iter(DataLoader(one_hot, batch_size=6)))[1])
batch = next(iter(DataLoader(DictDataset(), batch_size=3)))
print(batch["feature"], batch["index"], batch["name"])
loader = DataLoader(ds, batch_size=4, drop_last=True)
print([tuple(b[0].shape) for b in loader])
