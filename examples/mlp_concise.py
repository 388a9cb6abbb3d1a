"""The course MLP 784-512-256-10 on Fashion-MNIST, concise (seeds 000 and 003).

    784 inputs -> 512 ReLU units -> 256 ReLU units -> 10 scores

The lecture counts its weights by hand, 784 x 512 + 512 x 256 + 256 x 10 = 535,040, plus 778
biases; ``deepgrad.summary`` prints the same count with each layer's output shape. The model is
an ``nn.Sequential``, trained by ``deepgrad.train.fit`` with SGD (momentum 0.9) and
cross-entropy on the first 20,000 training images for five epochs (to stay within a minute on
two CPU cores).

Pictures: learning curves, the test confusion matrix, and misclassified test images.
"""

from common import fashion_mnist, saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.train import confusion_matrix, fit, predict
from deepgrad.viz import plot_confusion_matrix, plot_learning_curves, plot_misclassified

out, smoke = setup(__doc__)
X_train, y_train, X_test, y_test, classes = fashion_mnist(smoke, n_train=20_000)

net = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 512),
    nn.ReLU(),
    nn.Linear(512, 256),
    nn.ReLU(),
    nn.Linear(256, 10),
)
print(torch.summary(net, input_size=(256, 784)))

history = fit(
    net,
    nn.CrossEntropyLoss(),
    torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9),
    (X_train, y_train),
    val_data=(X_test, y_test),
    epochs=1 if smoke else 5,
    batch_size=256,
    progress=False,
)
for epoch, (tl, ta, va) in enumerate(
    zip(history["train_loss"], history["train_accuracy"], history["val_accuracy"]), 1
):
    print(f"epoch {epoch}: train loss {tl:.3f}, train acc {ta:.3f}, test acc {va:.3f}")

files = [out / f"mlp_concise_{n}.png" for n in ("curves", "confusion", "misclassified")]
plot_learning_curves(history, files[0], title="MLP 784-512-256-10")
scores = predict(net, X_test)
plot_confusion_matrix(confusion_matrix(y_test, scores), classes, files[1])
plot_misclassified(X_test, y_test, scores, classes, files[2], max_images=15)
saved(*files)
