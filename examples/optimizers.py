"""Optimiser comparison: SGD, SGD with momentum, AdaGrad, RMSprop, Adam and Adamax training the
same network from the same starting weights (seed 004, "Variants of the Stochastic Gradient
Descent algorithm", ``torch.optim.*``).

The problem: an MLP 784-128-10 on 10,000 Fashion-MNIST images, mini-batches of 128, three
epochs. Each optimiser starts from a copy of one initial model, so only the update rule
differs. Learning rates are each method's usual default (the adaptive methods scale every
parameter's step by its own gradient history, so they need a much smaller lr than plain SGD).

Picture: the mini-batch loss per iteration for each optimiser (smoothed), and test accuracy.
"""

import copy

import numpy as np
from common import fashion_mnist, saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.train import evaluate, fit
from deepgrad.viz import new_figure, save_figure

out, smoke = setup(__doc__, seed=4)
X_train, y_train, X_test, y_test, classes = fashion_mnist(smoke, n_train=10_000, n_test=2_000)

initial = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
optimizers = {
    "SGD (lr 0.1)": lambda p: torch.optim.SGD(p, lr=0.1),
    "SGD + momentum 0.9 (lr 0.01)": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    "AdaGrad (lr 0.01)": lambda p: torch.optim.Adagrad(p, lr=0.01),
    "RMSprop (lr 0.001)": lambda p: torch.optim.RMSprop(p, lr=0.001),
    "Adam (lr 0.001)": lambda p: torch.optim.Adam(p, lr=0.001),
    "Adamax (lr 0.002)": lambda p: torch.optim.Adamax(p, lr=0.002),
}
curves = {}
for name, make in optimizers.items():
    model = copy.deepcopy(initial)  # the same starting point for every method
    torch.manual_seed(4)  # and the same order of mini-batches
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        make(model.parameters()),
        (X_train, y_train),
        epochs=1 if smoke else 3,
        batch_size=128,
        progress=False,
    )
    test = evaluate(model, nn.CrossEntropyLoss(), (X_test, y_test))
    curves[name] = (np.asarray(history.iterations["loss"]), test["accuracy"])
    print(
        f"{name:30s} final train loss {history['train_loss'][-1]:.3f}  "
        f"test accuracy {test['accuracy']:.3f}"
    )

fig = new_figure(8, 4.8)
ax = fig.add_subplot()
window = 1 if smoke else 20
for name, (loss, acc) in curves.items():
    smooth = np.convolve(loss, np.ones(window) / window, mode="valid")  # mean of 20 steps
    ax.plot(np.arange(len(smooth)) + window, smooth, label=f"{name}: test acc {acc:.1%}")
ax.set_yscale("log")
ax.set(
    xlabel="iteration",
    ylabel="mini-batch loss (mean of 20 steps, log scale)",
    title="optimisers on Fashion-MNIST, MLP 784-128-10, same start",
)
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize="small")
fig.tight_layout()
saved(*save_figure(fig, out / "optimizers.png"))
