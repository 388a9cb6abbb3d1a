"""d2l's lazy layers: LazyLinear, LazyConv2d and LazyBatchNorm2d infer their input sizes on the
first forward pass."""

import torch
from torch import nn

torch.manual_seed(0)
net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
print(net[0].weight)
X = torch.rand(2, 20)
out = net(X)
print(tuple(net[0].weight.shape), tuple(net[2].weight.shape), tuple(out.shape))
print(net[2].weight.detach(), out.detach())

cnn = nn.Sequential(
    nn.LazyConv2d(6, kernel_size=5, padding=2),
    nn.LazyBatchNorm2d(),
    nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.LazyLinear(10),
)
X = torch.randn(4, 1, 12, 12)
for layer in cnn:
    X = layer(X)
    print(layer.__class__.__name__, "output shape:\t", tuple(X.shape))
print(tuple(cnn[0].weight.shape), tuple(cnn[1].running_mean.shape), tuple(cnn[5].weight.shape))
optimizer = torch.optim.SGD(cnn.parameters(), lr=0.1)
y = torch.tensor([0, 1, 2, 3])
for step in range(3):
    loss = nn.functional.cross_entropy(cnn(torch.randn(4, 1, 12, 12)), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(step, round(loss.item(), 4))
