"""Creating tensors and reading their attributes, as a first tutorial lesson does."""

import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print(x_data)
print(x_data.dtype, tuple(x_data.shape))

np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(x_np.tolist())

x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_rand = torch.rand_like(x_data, dtype=torch.float)
print(f"Random Tensor: \n {x_rand} \n")

shape = (2, 3)
for maker in (torch.rand, torch.ones, torch.zeros):
    t = maker(shape)
    print(maker.__name__, tuple(t.shape), t.dtype)

tensor = torch.rand(3, 4)
print(f"Shape of tensor: {tuple(tensor.shape)}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")

r = torch.rand(size=(2, 4))
print(r.shape[0], r.shape[1], r.size(1), r.dim(), r.numel())
z = torch.randn(size=(), requires_grad=True)
print(z.dim(), z.requires_grad, z.is_leaf)
print(torch.arange(12).reshape(3, 4))
print(torch.arange(0, 1, 0.25), torch.linspace(-1, 1, 5))
print(torch.zeros(2, 3, dtype=torch.long), torch.full((2, 2), 7.5), torch.eye(3))
print(torch.tensor(3.5).item(), torch.tensor([1.5, 2.5]).sum().item())
