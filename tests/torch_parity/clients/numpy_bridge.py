"""Moving values between tensors, NumPy and Python numbers."""

import numpy as np
import torch

t = torch.ones(5)
n = t.numpy()
print(f"t: {t}")
print(f"n: {n}")
t.add_(1)  # the NumPy array shares memory with the tensor
print(f"t: {t}")
print(f"n: {n}")

n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")
print(f"n: {n}")
print(t.dtype)

x = torch.tensor([[0.5, 1.25], [2.0, -3.0]])
print(x.tolist(), type(x.tolist()).__name__)
print(x.sum().item(), type(x.sum().item()).__name__)
print(x.argmax().item(), type(x.argmax().item()).__name__)
w = torch.randn(3, requires_grad=True)
print(np.round(w.detach().numpy(), 4))
print(torch.as_tensor([1, 2, 3]).dtype, torch.tensor(np.float32(2.0)).dtype)
print(np.asarray(torch.arange(4).float()).dtype)
arr = np.arange(6, dtype=np.float32).reshape(2, 3)
print(torch.from_numpy(arr).mean(axis=0), torch.tensor(arr).sum(dim=1))
