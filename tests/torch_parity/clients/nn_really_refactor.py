"""From hand-written log_softmax and nll to F.cross_entropy, nn.Module, optim and DataLoader,
in the manner of 'What is torch.nn really?'."""

import math

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
n, d, c = 200, 16, 4
x_train = torch.rand(n, d)
y_train = (x_train[:, :4].argmax(dim=1) + (x_train[:, 4] > 0.8).long()) % c
x_valid, y_valid = x_train[150:], y_train[150:]
x_train, y_train = x_train[:150], y_train[:150]
n = x_train.shape[0]
print(x_train.shape[0], y_train.min().item(), y_train.max().item())

weights = torch.randn(d, c) / math.sqrt(d)
weights.requires_grad_()
bias = torch.zeros(c, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


bs, lr = 32, 0.5
xb, yb = x_train[0:bs], y_train[0:bs]
preds = model(xb)
print(preds[0].detach(), tuple(preds.shape))
print(round(nll(preds, yb).item(), 4), round(accuracy(preds, yb).item(), 4))
for epoch in range(2):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        xb, yb = x_train[start_i : start_i + bs], y_train[start_i : start_i + bs]
        loss = nll(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
print(round(nll(model(xb), yb).item(), 4), round(accuracy(model(xb), yb).item(), 4))
print(round(F.cross_entropy(xb @ weights + bias, yb).item(), 4))


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(d, c)

    def forward(self, xb):
        return self.lin(xb)


def get_data(train_ds, valid_ds, bs):
    return DataLoader(train_ds, batch_size=bs, shuffle=True), DataLoader(
        valid_ds, batch_size=bs * 2
    )


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = sum(l * k for l, k in zip(losses, nums)) / sum(nums)
        print(epoch, round(val_loss, 4))


train_dl, valid_dl = get_data(TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid), bs)
model = Mnist_Logistic()
fit(
    3,
    model,
    F.cross_entropy,
    optim.SGD(model.parameters(), lr=lr, momentum=0.9),
    train_dl,
    valid_dl,
)


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


cnn = nn.Sequential(
    Lambda(lambda x: x.view(-1, 1, 4, 4)),
    nn.Conv2d(1, 4, kernel_size=3, stride=1, padding=1),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    Lambda(lambda x: x.view(x.size(0), -1)),
)
fit(2, cnn, F.cross_entropy, optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9), train_dl, valid_dl)
