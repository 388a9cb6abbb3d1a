"""Softmax regression on Fashion-MNIST, concise (seed 000, d2l's "concise implementation of
softmax regression").

``nn.Linear(784, 10)`` gives the scores O = X W^T + b; ``nn.CrossEntropyLoss`` applies the
softmax itself (in a numerically stable log-sum-exp form), so the network outputs raw scores.
``deepgrad.train.fit`` runs the usual zero_grad / backward / step loop and keeps a History.

Pictures: learning curves, the ten weight images, and the test confusion matrix.
"""

from common import fashion_mnist, saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.train import confusion_matrix, fit, predict
from deepgrad.viz import plot_confusion_matrix, plot_learning_curves, plot_softmax_weights

out, smoke = setup(__doc__)
X_train, y_train, X_test, y_test, classes = fashion_mnist(smoke)

net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
nn.init.normal_(net[1].weight, std=0.01)
loss = nn.CrossEntropyLoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.1)
history = fit(
    net,
    loss,
    trainer,
    (X_train, y_train),
    val_data=(X_test, y_test),
    epochs=1 if smoke else 10,
    batch_size=256,
    progress=False,
)
for epoch, (tl, ta, va) in enumerate(
    zip(history["train_loss"], history["train_accuracy"], history["val_accuracy"]), 1
):
    print(f"epoch {epoch}: train loss {tl:.3f}, train acc {ta:.3f}, test acc {va:.3f}")

files = [out / f"softmax_concise_{n}.png" for n in ("curves", "weights", "confusion")]
plot_learning_curves(history, files[0], title="softmax regression (nn.Linear + CrossEntropyLoss)")
plot_softmax_weights(net[1].weight, classes, files[1], title="softmax regression weights")
cm = confusion_matrix(y_test, predict(net, X_test))
plot_confusion_matrix(cm, classes, files[2])
saved(*files)
