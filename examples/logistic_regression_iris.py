"""Logistic regression on Iris: one neuron cannot separate versicolor from the rest; an MLP can.

Seed 004 ("The artificial neuron model"): with the two petal features, versicolor lies between
setosa (small petals) and virginica (large petals). One sigmoid neuron,
p = sigmoid(w1 x1 + w2 x2 + b), has a straight line as its decision boundary, so it cannot cut
the middle class out. Two neurons, each drawing one line, and a second-layer neuron combining
them (like an AND) can: that is a multi-layer perceptron.

Pictures: the one-neuron boundary (a line, failing) and the MLP's boundary (a band).
"""

from common import saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.data import load_iris, standardize, train_test_split
from deepgrad.train import accuracy
from deepgrad.viz import plot_decision_boundary, save_figure

out, smoke = setup(__doc__, seed=4)

# ---- data: petal length and width (cm); label 1 for versicolor, 0 for setosa and virginica
X, species, features, classes = load_iris()
X = X[:, 2:4]
y = (species == 1).float().reshape(-1, 1)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=4, stratify=species)
X_train, mean, std = standardize(X_train)  # scale with the training data's statistics
X_test, _, _ = standardize(X_test, mean, std)


def scale(points):  # plot coordinates (cm) -> model inputs
    return standardize(points, mean, std)[0]


def train(model, steps):
    """Full-batch training: BCE on logits (sigmoid folded into the loss), Adam."""
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        loss = loss_fn(model(X_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        train_acc = accuracy(model(X_train), y_train)
        test_acc = accuracy(model(X_test), y_test)
    return float(loss), train_acc, test_acc


steps = 20 if smoke else 1500
names = ["setosa or virginica", "versicolor"]
pictures = []
for title, model, file in [
    ("one neuron: a straight line", nn.Linear(2, 1), "iris_one_neuron.png"),
    (
        "MLP 2-2-1: two lines combined",
        nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1)),
        "iris_mlp.png",
    ),
]:
    loss, train_acc, test_acc = train(model, steps)
    print(f"{title:32s} loss {loss:.3f}  train acc {train_acc:.1%}  test acc {test_acc:.1%}")
    fig = plot_decision_boundary(
        model,
        X_train * std + mean,  # back to centimetres for the axes
        y_train,
        X_test * std + mean,
        y_test,
        transform=scale,
        class_names=names,
        title=f"{title} (test accuracy {test_acc:.0%})",
    )
    fig.axes[0].set(xlabel=features[2], ylabel=features[3])
    pictures += save_figure(fig, out / file)
saved(*pictures)
