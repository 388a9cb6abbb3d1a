"""Softmax regression on Fashion-MNIST from scratch (seed 000, d2l's "implementation of softmax
regression from scratch").

    O = X W + b,   Y_hat = softmax(O),   softmax(o)_i = exp(o_i) / sum_j exp(o_j)
    loss = -log Y_hat[i, y_i]   (cross-entropy with the true class)

Every piece is written out with tensors: the model, softmax, cross-entropy, accuracy and the
SGD update; autograd supplies the gradients. One 784 x 10 weight matrix, so each class's
weights can be looked at as a 28 x 28 image.

Pictures: learning curves (cost and accuracy, train and test) and the ten weight images.
"""

from common import fashion_mnist, saved, setup

import deepgrad as torch
from deepgrad.train import History
from deepgrad.utils.data import DataLoader, TensorDataset
from deepgrad.viz import plot_learning_curves, plot_softmax_weights

out, smoke = setup(__doc__)
X_train, y_train, X_test, y_test, classes = fashion_mnist(smoke)
batch_size, lr, num_epochs = 256, 0.1, 1 if smoke else 10
train_iter = DataLoader(TensorDataset(X_train, y_train), batch_size, shuffle=True)

num_inputs, num_outputs = 784, 10
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def softmax(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)  # shift: exp cannot overflow
    return X_exp / X_exp.sum(1, keepdim=True)


def net(X):
    return softmax(X.reshape((-1, W.shape[0])) @ W + b)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])  # the probability of the true class


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
        l = cross_entropy(y_hat, y)  # noqa: E741 - the lecture's name
        l.sum().backward()
        sgd([W, b], lr, len(y))
        history.log_iteration(loss=float(l.mean()), accuracy=accuracy(y_hat, y))
        total_loss += float(l.sum())
        total_correct += accuracy(y_hat, y) * len(y)
    with torch.no_grad():
        y_hat = net(X_test)
        test_loss, test_acc = float(cross_entropy(y_hat, y_test).mean()), accuracy(y_hat, y_test)
    history.log_epoch(
        train_loss=total_loss / len(y_train),
        train_accuracy=total_correct / len(y_train),
        val_loss=test_loss,
        val_accuracy=test_acc,
    )
    print(
        f"epoch {epoch + 1}: train loss {total_loss / len(y_train):.3f}, "
        f"train acc {total_correct / len(y_train):.3f}, test acc {test_acc:.3f}"
    )

files = [out / "softmax_scratch_curves.png", out / "softmax_scratch_weights.png"]
plot_learning_curves(history, files[0], title="softmax regression from scratch")
# W is 784 x 10: column k, reshaped to 28 x 28, is what class k's score looks for
plot_softmax_weights(W.detach().T, classes, files[1], title="softmax regression weights (scratch)")
saved(*files)
