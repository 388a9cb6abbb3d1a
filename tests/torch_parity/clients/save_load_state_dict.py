"""Saving a model's state_dict and loading it into a fresh model with weights_only=True."""

import torch
import torch.nn as nn


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.bn = nn.BatchNorm1d(6)
        self.fc2 = nn.Linear(6, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


torch.manual_seed(0)
model = TinyNet()
x = torch.randn(8, 4)
model.train()
model(x)  # updates the batch-norm running statistics
model.eval()
expected = model(x)

print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", tuple(model.state_dict()[param_tensor].size()))

torch.save(model.state_dict(), "model_weights.pth")
model2 = TinyNet()
print(torch.equal(model2(x), expected))
result = model2.load_state_dict(torch.load("model_weights.pth", weights_only=True))
model2.eval()
print(torch.equal(model2(x), expected), expected.detach())
print(model2.bn.num_batches_tracked, model2.bn.running_var)
print(list(result.missing_keys), list(result.unexpected_keys))

sd = torch.load("model_weights.pth", map_location="cpu")
print(type(sd).__name__, len(sd), sd["fc1.weight"].dtype, sd["bn.num_batches_tracked"].dtype)
