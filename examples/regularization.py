"""Regularisation: no penalty, L1 and L2 on a noisy 2-D set; boundaries and the train/test gap.

Seeds 002 and 004: the training objective gets a penalty on the weights,

    J(theta) = mean loss + lambda * Omega(W),
    L2: Omega = sum_k ||W_k||_F^2  (weight decay; a Gaussian prior on the weights)
    L1: Omega = sum_k sum_ij |W_k,ij|  (pushes weights to exactly 0; a Laplacian prior)

applied to weights only, not biases, as the lecture says. The data is the Playground's
"Gaussian" set with a lot of noise (seed 004's suggested settings), and only 60 training points
for a 2-64-64-1 network trained for long: without a penalty it bends its boundary around
single noisy points (overfitting: training loss falls while the test loss rises); with one
the boundary stays close to the straight line that the two blobs call for.

Pictures: one decision boundary per penalty, and train vs test loss for all three.
"""

import copy

from common import saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.data import gauss
from deepgrad.viz import new_figure, plot_decision_boundary, save_figure

out, smoke = setup(__doc__, seed=4)
X_train, y_train = gauss(60, noise=0.5, seed=1)
X_test, y_test = gauss(500, noise=0.5, seed=2)
y_train, y_test = y_train.float().reshape(-1, 1), y_test.float().reshape(-1, 1)

initial = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
penalties = {
    "no penalty": lambda W: 0.0,
    "L1, lambda = 1e-2": lambda W: 1e-2 * sum(w.abs().sum() for w in W),
    "L2, lambda = 1e-2": lambda W: 1e-2 * sum((w**2).sum() for w in W),
}
loss_fn = nn.BCEWithLogitsLoss()
steps = 20 if smoke else 3000
files, curves = [], {}
for k, (name, penalty) in enumerate(penalties.items()):
    model = copy.deepcopy(initial)  # all three start from the same weights
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_curve, test_curve = [], []
    for step in range(steps):
        data_loss = loss_fn(model(X_train), y_train)
        loss = data_loss + penalty(weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            with torch.no_grad():
                test_curve.append(float(loss_fn(model(X_test), y_test)))
            train_curve.append(float(data_loss))
    curves[name] = (train_curve, test_curve)
    with torch.no_grad():
        acc_train = float(((model(X_train) > 0).float() == y_train).float().mean())
        acc_test = float(((model(X_test) > 0).float() == y_test).float().mean())
    zeros = sum(int((w.abs() < 1e-3).sum()) for w in weights)
    total = sum(w.numel() for w in weights)
    print(
        f"{name:18s} train loss {train_curve[-1]:.3f} acc {acc_train:.0%} | test loss "
        f"{test_curve[-1]:.3f} acc {acc_test:.0%} | weights near 0: {zeros}/{total}"
    )
    path = out / f"regularization_{['none', 'l1', 'l2'][k]}.png"
    plot_decision_boundary(
        model,
        X_train,
        y_train.reshape(-1),
        X_test[:150],
        y_test[:150, 0],
        path=path,
        title=f"{name}: train {acc_train:.0%}, test {acc_test:.0%}",
    )
    files.append(path)

fig = new_figure(7, 4.4)
ax = fig.add_subplot()
for (name, (train, test)), color in zip(curves.items(), ["#d62728", "#2ca02c", "#1f77b4"]):
    x = [10 * i for i in range(len(train))]
    ax.plot(x, train, color=color, linestyle="--", label=f"{name}: train")
    ax.plot(x, test, color=color, label=f"{name}: test")
ax.set_yscale("log")
ax.set(
    xlabel="step",
    ylabel="cross-entropy (without the penalty)",
    title="the train/test gap: overfitting without a penalty",
)
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize="small")
fig.tight_layout()
files += save_figure(fig, out / "regularization_gap.png")
saved(*files)
