"""Device-agnostic code: torch.device, .to(device), .cpu(), .device, cuda/mps queries."""

import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(device, device.type, torch.cuda.is_available(), torch.backends.mps.is_available())
print(torch.cuda.device_count())
torch.manual_seed(0)
if torch.cuda.is_available():
    torch.cuda.manual_seed(0)
torch.cuda.manual_seed_all(0)
model = nn.Linear(3, 2).to(device)
x = torch.randn(4, 3).to(device)
y = torch.zeros(4, 2, device=device)
print(x.device, y.device, next(model.parameters()).device)
loss = nn.functional.mse_loss(model(x), y)
loss.backward()
print(round(loss.item(), 4), model.weight.grad.device)
out = model(x).detach().cpu().numpy()
print(out.round(4), out.dtype)
t = torch.tensor([1.0, 2.0], device="cpu")
print(t.to("cpu").device, t.to(device, dtype=torch.float64).dtype, t.to(torch.int64))
print(t.device == torch.device("cpu"), str(t.device), t.is_cuda)
model.cpu()
model.to(torch.float64)
print(model.weight.dtype, model(torch.ones(1, 3, dtype=torch.float64)).dtype)
