"""Depth against width on the two spirals (seed 004, "The expressive power of neural networks").

Three models learn to separate the Playground's two interleaved spirals:
  logistic regression          one neuron: a straight line, hopeless here;
  MLP, 2 layers, 20+1 neurons  one hidden layer of 20;
  MLP, 4 layers, 20+20+20+1    three hidden layers of 20.
All use ReLU hidden units, binary cross-entropy on the logit, and full-batch Adam for the same
number of steps. A ReLU network is piecewise linear: the 20 units of one hidden layer cut the
plane along 20 lines, too few straight pieces to follow the spiral's turns, while stacked
layers fold the plane again and again, multiplying the pieces (the lecture's "composition is
efficient because it allows the reuse of layers of neurons").

Pictures: the three decision boundaries, with training points (dots) and test points (crosses).
"""

from common import saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.data import spiral
from deepgrad.viz import plot_decision_boundary

out, smoke = setup(__doc__, seed=4)
X_train, y_train = spiral(400, noise=0.3, seed=4)
X_test, y_test = spiral(200, noise=0.3, seed=40)
t_train, t_test = y_train.float().reshape(-1, 1), y_test.float().reshape(-1, 1)

models = {
    "logistic regression": nn.Linear(2, 1),
    "MLP, 2 layers, 20+1 neurons": nn.Sequential(nn.Linear(2, 20), nn.ReLU(), nn.Linear(20, 1)),
    "MLP, 4 layers, 20+20+20+1 neurons": nn.Sequential(
        nn.Linear(2, 20),
        nn.ReLU(),
        nn.Linear(20, 20),
        nn.ReLU(),
        nn.Linear(20, 20),
        nn.ReLU(),
        nn.Linear(20, 1),
    ),
}
steps = 20 if smoke else 2000
files = []
for (name, model), file in zip(models.items(), ["logistic", "2_layers", "4_layers"]):
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        loss = loss_fn(model(X_train), t_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        train_acc = float(((model(X_train) > 0).float() == t_train).float().mean())
        test_acc = float(((model(X_test) > 0).float() == t_test).float().mean())
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{name:36s} {params:4d} parameters  loss {float(loss):.3f}  "
        f"train acc {train_acc:.1%}  test acc {test_acc:.1%}"
    )
    path = out / f"spiral_{file}.png"
    plot_decision_boundary(
        model,
        X_train,
        y_train,
        X_test,
        y_test,
        path=path,
        title=f"{name}: test accuracy {test_acc:.0%}",
    )
    files.append(path)
saved(*files)
