"""Linear regression, concise: the same fit as linear_regression_scratch.py with ``nn`` and
``optim`` doing the work (d2l's "concise implementation of linear regression").

``nn.Linear(2, 1)`` is the model, ``nn.MSELoss`` the loss (the mean, so no division by the
batch size), ``optim.SGD`` the update, and a ``DataLoader`` over a ``TensorDataset`` shuffles
the mini-batches.

Pictures: the loss per step, and the learned w1, w2, b against the true values.
"""

from common import saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.utils.data import DataLoader, TensorDataset
from deepgrad.viz import new_figure, save_figure

out, smoke = setup(__doc__)

true_w, true_b = torch.tensor([2.0, -3.4]), 4.2
n = 100 if smoke else 1000
features = torch.normal(0, 1, (n, 2))
labels = (features @ true_w + true_b + torch.normal(0, 0.01, (n,))).reshape((-1, 1))
data_iter = DataLoader(TensorDataset(features, labels), batch_size=10, shuffle=True)

net = nn.Sequential(nn.Linear(2, 1))
net[0].weight.data.normal_(0, 0.01)  # the lecture's initialisation
net[0].bias.data.fill_(0)
loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)

losses, trajectory = [], []
for epoch in range(1 if smoke else 3):
    for X, y in data_iter:
        l = loss(net(X), y)  # noqa: E741 - the lecture's name
        trainer.zero_grad()
        l.backward()
        trainer.step()
        losses.append(float(l))
        w, b = net[0].weight, net[0].bias
        trajectory.append([float(w[0, 0]), float(w[0, 1]), float(b[0])])
    print(f"epoch {epoch + 1}, loss {float(loss(net(features), labels)):f}")
w, b = net[0].weight.data, net[0].bias.data
print(f"error in estimating w: {(true_w - w.reshape(true_w.shape)).tolist()}")
print(f"error in estimating b: {true_b - float(b[0]):.6f}")

fig = new_figure(10, 3.8)
ax1, ax2 = fig.subplots(1, 2)
ax1.semilogy(losses)
ax1.set(xlabel="step", ylabel="mini-batch MSE (log scale)", title="MSELoss")
for k, (name, true) in enumerate([("$w_1$", 2.0), ("$w_2$", -3.4), ("$b$", true_b)]):
    line = ax2.plot([t[k] for t in trajectory], label=name)[0]
    ax2.axhline(true, color=line.get_color(), linestyle="--", linewidth=0.8)
ax2.set(xlabel="step", ylabel="value", title="parameters (dashed: true values)")
ax2.legend()
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
fig.suptitle("linear regression with nn.Linear, nn.MSELoss and optim.SGD")
fig.tight_layout()
saved(*save_figure(fig, out / "linear_regression_concise.png"))
