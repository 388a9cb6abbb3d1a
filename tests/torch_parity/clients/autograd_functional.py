"""autograd.functional (jacobian, vjp), the legacy Variable wrapper, and linalg values."""

import torch
from torch.autograd import Variable
from torch.autograd.functional import jacobian, vjp


def f(x):
    return torch.stack([x[0] ** 2 * x[1], torch.sin(x[1]), x[0] + 3 * x[1]])


x = torch.tensor([1.0, 0.5])
J = jacobian(f, x)
print(J)
out, grad = vjp(f, x, torch.tensor([1.0, 0.0, 1.0]))
print(out, grad)
print(torch.allclose(grad, torch.tensor([1.0, 0.0, 1.0]) @ J))

v = Variable(torch.tensor([2.0, -1.0]), requires_grad=True)
loss = (v**3).sum()
loss.backward()
print(v.grad, v.data, type(v).__name__)

A = torch.tensor([[3.0, 1.0], [1.0, 2.0]])
print(torch.det(A))
print(torch.linalg.cross(torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])))
p = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
print(torch.cdist(p, p))
print(torch.histc(torch.tensor([1.0, 2.0, 1.0, 4.0]), bins=4, min=0, max=4))
print(torch.asin(torch.tensor([0.0, 0.5, 1.0])))
print(torch.bitwise_xor(torch.tensor([5, 3]), torch.tensor([1, 1])))
