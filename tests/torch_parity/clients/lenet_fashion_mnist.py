"""LeNet on a small Fashion-MNIST subset: the d2l/tutorial CNN training loop with evaluation."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"
data = datasets.FashionMNIST("data", train=False, download=False, transform=transforms.ToTensor())
train_iter = DataLoader(Subset(data, range(0, 256)), batch_size=32, shuffle=True)
test_iter = DataLoader(Subset(data, range(256, 384)), batch_size=64)

net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2),
    nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5),
    nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120),
    nn.Sigmoid(),
    nn.Linear(120, 84),
    nn.Sigmoid(),
    nn.Linear(84, 10),
)
X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, "output shape: \t", tuple(X.shape))


def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)


net.apply(init_weights)
net.to(device)
optimizer = torch.optim.SGD(net.parameters(), lr=0.9)
loss = nn.CrossEntropyLoss()
for epoch in range(2):
    net.train()
    total, correct, n = 0.0, 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        with torch.no_grad():
            total += l.item() * X.shape[0]
            correct += (y_hat.argmax(axis=1) == y).sum().item()
            n += X.shape[0]
    net.eval()
    with torch.no_grad():
        hits = sum((net(X).argmax(1) == y).sum().item() for X, y in test_iter)
    print(
        f"epoch {epoch}: loss {total / n:.4f}, train acc {correct / n:.3f}, "
        f"test acc {hits / 128:.3f}"
    )
