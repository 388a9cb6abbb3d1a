"""DataLoader with shuffle=True and a seeded torch.Generator; epochs see different orders."""

import torch
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.arange(20, dtype=torch.float32).reshape(10, 2)
y = torch.arange(10)
dataset = TensorDataset(X, y)
print(len(dataset), dataset[4])

g = torch.Generator()
g.manual_seed(42)
loader = DataLoader(dataset, batch_size=4, shuffle=True, generator=g)
for epoch in range(2):
    print(f"epoch {epoch}:", [batch_y.tolist() for _, batch_y in loader])
for batch_X, batch_y in DataLoader(dataset, batch_size=3):
    print(tuple(batch_X.shape), batch_y.tolist())
print(
    len(DataLoader(dataset, batch_size=3)), len(DataLoader(dataset, batch_size=3, drop_last=True))
)
Xs, ys = next(iter(DataLoader(dataset, batch_size=10, shuffle=True)))
print(sorted(ys.tolist()) == list(range(10)), torch.equal(Xs[:, 0], ys.float() * 2))
