"""Building a model and walking through its layers, as the "Build the neural network" lesson."""

import torch
from torch import nn

torch.manual_seed(0)
device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(6 * 6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 5)
        )

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


model = NeuralNetwork().to(device)
print(model)
X = torch.rand(1, 6, 6, device=device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")

input_image = torch.rand(3, 6, 6)
print(tuple(input_image.size()))
flat_image = nn.Flatten()(input_image)
print(tuple(flat_image.size()))
layer1 = nn.Linear(in_features=36, out_features=8)
hidden1 = layer1(flat_image)
print(tuple(hidden1.size()))
print(f"Before ReLU: {hidden1[0].detach()}\n\n")
hidden1 = nn.ReLU()(hidden1)
print(f"After ReLU: {hidden1[0].detach()}")
seq_modules = nn.Sequential(nn.Flatten(), layer1, nn.ReLU(), nn.Linear(8, 4))
logits = seq_modules(input_image)
softmax = nn.Softmax(dim=1)
print(softmax(logits).sum(dim=1).detach())

print(f"Model structure: {model}\n\n")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {tuple(param.size())} | Values : {param[:2].detach()} \n")
