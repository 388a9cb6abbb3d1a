"""Softmax regression from scratch, d2l style: axis=/keepdims=, Accumulator, accuracy."""

import torch
from torch.utils.data import DataLoader, TensorDataset


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdims=True)
    return X_exp / partition


class Accumulator:
    """Sums over n variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


torch.manual_seed(0)
num_inputs, num_outputs = 20, 4
centers = torch.randn(num_outputs, num_inputs) * 2
labels = torch.randint(0, num_outputs, (400,))
features = centers[labels] + torch.randn(400, num_inputs)
train_iter = DataLoader(TensorDataset(features[:300], labels[:300]), batch_size=32, shuffle=True)
test_iter = DataLoader(TensorDataset(features[300:], labels[300:]), batch_size=50)

W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def evaluate_accuracy(net, data_iter):
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def updater(batch_size, lr=0.1):
    with torch.no_grad():
        for param in [W, b]:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(X.sum(0, keepdim=True), X.sum(1, keepdims=True), X.sum(axis=0))
X_prob = softmax(torch.normal(0, 1, (2, 5)))
print(X_prob, X_prob.sum(1))
print(round(evaluate_accuracy(net, test_iter), 4))
for epoch in range(3):
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = cross_entropy(y_hat, y)
        l.sum().backward()
        updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    test_acc = evaluate_accuracy(net, test_iter)
    print(
        f"epoch {epoch + 1}: loss {metric[0] / metric[2]:.4f}, train acc "
        f"{metric[1] / metric[2]:.4f}, test acc {test_acc:.4f}"
    )
