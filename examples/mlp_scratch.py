"""A multilayer perceptron on Fashion-MNIST from scratch (seed 000, d2l's "implementing MLP
from scratch").

    H = ReLU(X W1 + b1),   O = H W2 + b2,   loss = cross-entropy(softmax(O), y)

One hidden layer of 256 units, trained on the first 30,000 training images (to stay within a
minute on two CPU cores). The parameters, ReLU, the network and the SGD step are written
by hand; the cross-entropy comes from ``nn`` (its softmax is the numerically stable kind).
Compared with softmax regression, the hidden layer and its non-linearity let the model draw
non-linear boundaries between the classes.

Picture: learning curves (cost and accuracy, train and test).
"""

from common import fashion_mnist, saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.train import History
from deepgrad.utils.data import DataLoader, TensorDataset
from deepgrad.viz import plot_learning_curves

out, smoke = setup(__doc__)
X_train, y_train, X_test, y_test, classes = fashion_mnist(smoke, n_train=30_000)
batch_size, lr, num_epochs = 256, 0.1, 1 if smoke else 10
train_iter = DataLoader(TensorDataset(X_train, y_train), batch_size, shuffle=True)

num_inputs, num_outputs, num_hiddens = 784, 10, 256
W1 = torch.randn(num_inputs, num_hiddens) * 0.01
W2 = torch.randn(num_hiddens, num_outputs) * 0.01
b1, b2 = torch.zeros(num_hiddens), torch.zeros(num_outputs)
params = [W1, b1, W2, b2]
for p in params:
    p.requires_grad_(True)


def relu(X):
    return torch.max(X, torch.zeros_like(X))


def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2


loss = nn.CrossEntropyLoss(reduction="none")  # one loss per example, summed below


def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y).float().mean())


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


history = History()
for epoch in range(num_epochs):
    total_loss = total_correct = 0.0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 - the lecture's name
        l.sum().backward()
        sgd(params, lr, len(y))
        history.log_iteration(loss=float(l.mean()), accuracy=accuracy(y_hat, y))
        total_loss += float(l.sum())
        total_correct += accuracy(y_hat, y) * len(y)
    with torch.no_grad():
        y_hat = net(X_test)
        test_loss, test_acc = float(loss(y_hat, y_test).mean()), accuracy(y_hat, y_test)
    train_loss, train_acc = total_loss / len(y_train), total_correct / len(y_train)
    history.log_epoch(
        train_loss=train_loss, train_accuracy=train_acc, val_loss=test_loss, val_accuracy=test_acc
    )
    print(
        f"epoch {epoch + 1}: train loss {train_loss:.3f}, train acc {train_acc:.3f}, "
        f"test acc {test_acc:.3f}"
    )

path = out / "mlp_scratch_curves.png"
plot_learning_curves(history, path, title="MLP 784-256-10 from scratch")
saved(path)
