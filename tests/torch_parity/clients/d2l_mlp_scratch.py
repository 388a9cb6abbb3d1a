"""A multilayer perceptron from scratch, d2l style: nn.Parameter matrices, a hand-written relu."""

import torch
from torch import nn

torch.manual_seed(0)
num_inputs, num_outputs, num_hiddens = 16, 3, 32
W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
params = [W1, b1, W2, b2]


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2


X = torch.randn(120, num_inputs)
y = (X[:, :3].sum(dim=1) > 0).long() + (X[:, 3] > 1).long()
loss = nn.CrossEntropyLoss(reduction="none")
updater = torch.optim.SGD(params, lr=0.5)
for epoch in range(30):
    l = loss(net(X), y)
    updater.zero_grad()
    l.mean().backward()
    updater.step()
    if epoch % 10 == 9:
        acc = (net(X).argmax(axis=1) == y).float().mean()
        print(f"epoch {epoch + 1}, loss {l.mean().item():.4f}, acc {acc.item():.4f}")
print(relu(torch.tensor([-1.0, 0.0, 2.0])), W1.requires_grad, type(W1).__name__)
