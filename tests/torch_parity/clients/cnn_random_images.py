"""A small CNN (Conv2d, BatchNorm2d, MaxPool2d, Dropout, AdaptiveAvgPool2d, Flatten) on noise."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 8, kernel_size=3)
        self.gap = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.conv2(x))
        x = self.flatten(self.gap(x))
        return self.fc(self.dropout(x))


torch.manual_seed(0)
images = torch.randn(48, 3, 10, 10)
labels = torch.randint(0, 3, (48,))
images[labels == 1, 0] += 1.0
images[labels == 2, 1] -= 1.0

net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for epoch in range(6):
    running_loss = 0.0
    for i in range(0, 48, 16):
        inputs, target = images[i : i + 16], labels[i : i + 16]
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, target)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print(f"[{epoch + 1}] loss: {running_loss / 3:.4f}")

net.eval()
with torch.no_grad():
    outputs = net(images)
    _, predicted = torch.max(outputs, 1)
    correct = (predicted == labels).sum().item()
print(f"Accuracy: {100 * correct // len(labels)} %")
print(tuple(net.conv2(net.pool(net.conv1(images[:2]))).shape), net.bn1.running_mean)
x = torch.randn(1, 3, 10, 10)
print(tuple(nn.MaxPool2d(3, stride=2, padding=1)(x).shape), tuple(nn.AvgPool2d(2)(x).shape))
print(
    tuple(nn.AdaptiveAvgPool2d(1)(x).shape), tuple(nn.Conv2d(3, 4, 5, stride=2, padding=2)(x).shape)
)
