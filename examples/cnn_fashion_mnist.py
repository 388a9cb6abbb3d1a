"""A convolutional network (LeNet-5 style) on Fashion-MNIST.

    conv 5x5, 6 maps (padding 2) -> ReLU -> max-pool 2  : 6 x 14 x 14
    conv 5x5, 16 maps             -> ReLU -> max-pool 2  : 16 x 5 x 5
    flatten -> 120 -> ReLU -> 84 -> ReLU -> 10 scores

Convolutions share one small kernel across the whole image, so the network has 61,706
parameters against the MLP 784-512-256-10's 535,818, and it knows that a pattern means the same
wherever it appears. Trained with Adam on the first 30,000 training images for three epochs,
to stay within a minute on two CPU cores; more data and epochs do better.

Pictures: learning curves, the test confusion matrix, and the first layer's six kernels with
the feature maps they produce for one test image.
"""

from common import fashion_mnist, saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.train import confusion_matrix, fit, predict
from deepgrad.viz import new_figure, plot_confusion_matrix, plot_learning_curves, save_figure

out, smoke = setup(__doc__)
X_train, y_train, X_test, y_test, classes = fashion_mnist(smoke, n_train=30_000, n_test=5_000)
X_train, X_test = X_train.reshape(-1, 1, 28, 28), X_test.reshape(-1, 1, 28, 28)

net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(6, 16, kernel_size=5),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120),
    nn.ReLU(),
    nn.Linear(120, 84),
    nn.ReLU(),
    nn.Linear(84, 10),
)
print(torch.summary(net, input_size=(128, 1, 28, 28)))

history = fit(
    net,
    nn.CrossEntropyLoss(),
    torch.optim.Adam(net.parameters(), lr=2e-3),
    (X_train, y_train),
    val_data=(X_test, y_test),
    epochs=1 if smoke else 3,
    batch_size=128,
    progress=False,
)
for epoch, (tl, ta, va) in enumerate(
    zip(history["train_loss"], history["train_accuracy"], history["val_accuracy"]), 1
):
    print(f"epoch {epoch}: train loss {tl:.3f}, train acc {ta:.3f}, test acc {va:.3f}")

files = [out / f"cnn_{n}.png" for n in ("curves", "confusion", "feature_maps")]
plot_learning_curves(history, files[0], title="LeNet-style CNN on Fashion-MNIST")
plot_confusion_matrix(confusion_matrix(y_test, predict(net, X_test)), classes, files[1])

# what the first layer sees: its 5x5 kernels, and their ReLU feature maps for one image
image = X_test[:1]
with torch.no_grad():
    maps = net[1](net[0](image))[0]
kernels = net[0].weight.detach()[:, 0]
fig = new_figure(11, 4.2)
axes = fig.subplots(2, 7)
axes[0, 0].imshow(image[0, 0].numpy(), cmap="gray_r")
axes[0, 0].set_title(f"input: {classes[int(y_test[0])]}", fontsize=9)
axes[1, 0].axis("off")
for k in range(6):
    m = float(kernels[k].abs().max())
    axes[0, k + 1].imshow(kernels[k].numpy(), cmap="seismic", vmin=-m, vmax=m)
    axes[0, k + 1].set_title(f"kernel {k}", fontsize=9)
    axes[1, k + 1].imshow(maps[k].numpy(), cmap="viridis")
    axes[1, k + 1].set_title(f"feature map {k}", fontsize=9)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("first convolution layer: kernels (red +, blue -) and ReLU feature maps")
fig.tight_layout()
files += save_figure(fig, files.pop())
saved(*files)
