"""random_split into training and validation sets, a training loop and a validation loop."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
X = torch.randn(200, 3)
y = (X[:, 0] * X[:, 1] > 0).long()
full = TensorDataset(X, y)
train_set, val_set = random_split(full, [160, 40], generator=torch.Generator().manual_seed(0))
print(len(train_set), len(val_set), sorted(train_set.indices[:5] + val_set.indices[:5])[:3])
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=40)

model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(5):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        xb, yb = next(iter(val_loader))
        out = model(xb)
        val_loss = loss_fn(out, yb).item()
        val_acc = (out.argmax(dim=1) == yb).float().mean().item()
    print(f"epoch {epoch}: val_loss={val_loss:.4f} val_acc={val_acc:.3f}")
a, b, c = random_split(range(10), [0.5, 0.3, 0.2])
print(len(a), len(b), len(c), sorted(list(a) + list(b) + list(c)))
