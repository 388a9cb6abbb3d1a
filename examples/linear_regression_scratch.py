"""Linear regression from scratch: y = Xw + b fitted by mini-batch SGD, every part by hand.

The course's first model (seed 000 and d2l's "linear regression from scratch"): synthetic data
from a known line, the model, the squared loss and the SGD update written out with raw tensors;
only the gradients come from autograd. The update runs under ``no_grad`` so that it is not
itself recorded in the graph.

Pictures: the loss per step, and w1, w2, b walking to their true values.
"""

from common import saved, setup

import deepgrad as torch  # deepgrad has PyTorch's API, so course code reads unchanged
from deepgrad.viz import new_figure, save_figure

out, smoke = setup(__doc__)

# ---- data: y = X w + b + noise, with w = (2, -3.4), b = 4.2 as in the lecture
true_w, true_b = torch.tensor([2.0, -3.4]), 4.2
n = 100 if smoke else 1000
features = torch.normal(0, 1, (n, 2))
labels = (features @ true_w + true_b + torch.normal(0, 0.01, (n,))).reshape((-1, 1))


def data_iter(batch_size, features, labels):
    """Shuffled mini-batches (what DataLoader does in the concise version)."""
    order = torch.randperm(len(features))
    for i in range(0, len(features), batch_size):
        batch = order[i : i + batch_size]
        yield features[batch], labels[batch]


# ---- model, loss and optimiser, by hand
w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)


def linreg(X, w, b):
    return X @ w + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """theta <- theta - lr * grad / batch_size, outside autograd; then clear the gradient."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


# ---- training
lr, num_epochs, batch_size = 0.03, 1 if smoke else 3, 10
losses, trajectory = [], []
for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        loss = squared_loss(linreg(X, w, b), y)  # one loss per example
        loss.sum().backward()  # d(sum)/d(w, b): sgd divides by the batch size
        sgd([w, b], lr, batch_size)
        losses.append(float(loss.mean()))
        trajectory.append([float(w[0, 0]), float(w[1, 0]), float(b[0])])
    with torch.no_grad():
        train_l = squared_loss(linreg(features, w, b), labels)
        print(f"epoch {epoch + 1}, loss {float(train_l.mean()):f}")
print(f"error in estimating w: {(true_w - w.reshape(true_w.shape)).tolist()}")
print(f"error in estimating b: {true_b - float(b[0]):.6f}")

# ---- pictures
fig = new_figure(10, 3.8)
ax1, ax2 = fig.subplots(1, 2)
ax1.semilogy(losses)
ax1.set(xlabel="step", ylabel="mini-batch loss (log scale)", title="squared loss")
for k, (name, true) in enumerate([("$w_1$", 2.0), ("$w_2$", -3.4), ("$b$", true_b)]):
    line = ax2.plot([t[k] for t in trajectory], label=name)[0]
    ax2.axhline(true, color=line.get_color(), linestyle="--", linewidth=0.8)
ax2.set(xlabel="step", ylabel="value", title="parameters (dashed: true values)")
ax2.legend()
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
fig.suptitle("linear regression from scratch")
fig.tight_layout()
saved(*save_figure(fig, out / "linear_regression_scratch.png"))
