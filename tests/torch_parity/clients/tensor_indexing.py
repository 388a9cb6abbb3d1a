"""Indexing, slicing, joining and reshaping tensors."""

import torch

tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(tuple(t1.shape))
s = torch.stack([torch.arange(3), torch.arange(3) * 10])
print(s, tuple(s.shape))

x = torch.arange(24).reshape(2, 3, 4)
print(x[1, :, 2], x[:, -1], x[0, 1:, ::2])
print(tuple(x.view(6, 4).shape), tuple(x.view(-1).shape), tuple(x.reshape(4, -1).shape))
print(tuple(x.permute(2, 0, 1).shape), tuple(x.transpose(0, 1).shape))
y = torch.zeros(1, 3, 1, 2)
print(tuple(y.squeeze().shape), tuple(y.squeeze(0).shape), tuple(y.unsqueeze(-1).shape))
print(x.flatten().tolist()[:6], tuple(x.flatten(1).shape))

# boolean masks and integer index lists
v = torch.tensor([3.0, -1.0, 4.0, -1.5, 5.0])
print(v[v > 0], v[[0, 2, 4]], (v > 0).sum().item())
v[v < 0] = 0.0
print(v)
m = torch.arange(9.0).reshape(3, 3)
print(m[torch.tensor([0, 2])], m[[0, 1, 2], [2, 1, 0]])
print(m.t(), m.T.contiguous().view(9))

# arithmetic and in-place updates
a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
print(a @ a.T, a.matmul(a), a * a, a.mul(a))
a.add_(5)
print(a)
print(torch.cat((a, torch.tensor([[0, 1]])), 0).dtype)
print(torch.chunk(torch.arange(10), 3), torch.split(torch.arange(7), 3))
