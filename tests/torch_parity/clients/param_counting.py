"""Counting and listing parameters: named_parameters(), parameters(), numel(), requires_grad."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 4, kernel_size=3, padding=1),
    nn.BatchNorm2d(4),
    nn.ReLU(),
    nn.Flatten(),
    nn.Linear(4 * 5 * 5, 10),
)
total = sum(p.numel() for p in model.parameters())
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"total {total}, trainable {trainable}")
for name, param in model.named_parameters():
    print(f"{name:12s} {str(tuple(param.shape)):16s} {param.numel():5d} {param.requires_grad}")
print([name for name, _ in model.named_buffers()])
print(sorted(model.state_dict().keys()))
print(model[0].weight.dtype, model[1].running_mean.tolist())
print(len(list(model.modules())), len(list(model.children())))
print(sum(p.numel() for p in model[4].parameters()), model[4].in_features, model[4].out_features)
print(model[0].kernel_size, model[0].stride, model[0].padding)
