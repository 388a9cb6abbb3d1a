"""Concise softmax regression, d2l style: nn.Flatten + nn.Linear, init_weights, reduction='none'."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
images = torch.rand(256, 1, 8, 8)
labels = (images.mean(dim=(1, 2, 3)) * 10).long().clamp(0, 4)
train_iter = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True)

net = nn.Sequential(nn.Flatten(), nn.Linear(64, 5))


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)
loss = nn.CrossEntropyLoss(reduction="none")
trainer = torch.optim.SGD(net.parameters(), lr=0.5)


def accuracy(y_hat, y):
    y_hat = y_hat.argmax(axis=1)
    return float((y_hat.type(y.dtype) == y).type(y.dtype).sum())


for epoch in range(4):
    if isinstance(net, torch.nn.Module):
        net.train()
    total_loss, total_acc, n = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
        total_loss += float(l.sum())
        total_acc += accuracy(y_hat, y)
        n += y.numel()
    print(f"epoch {epoch + 1}: loss {total_loss / n:.4f}, acc {total_acc / n:.4f}")
print(tuple(l.shape), l.dtype)
