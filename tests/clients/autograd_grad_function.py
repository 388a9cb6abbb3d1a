"""torch.autograd.grad: derivatives as values, higher order with create_graph."""

import torch

x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
w = torch.tensor([1.0, -1.0, 0.5], requires_grad=True)
y = (w * x**3).sum()
(dx,) = torch.autograd.grad(y, x, create_graph=True)
print(dx.detach())
print(x.grad is None, w.grad is None)  # autograd.grad fills no .grad
(d2x,) = torch.autograd.grad(dx.sum(), x)
print(d2x)

# gradient penalty style: the norm of an input gradient, then backward through it
x = torch.tensor([[0.2, -0.4], [1.0, 0.3]], requires_grad=True)
lin = torch.nn.Linear(2, 1)
out = torch.tanh(lin(x)).sum()
(g,) = torch.autograd.grad(out, x, create_graph=True)
penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
penalty.backward()
print(round(penalty.item(), 5), lin.weight.grad, x.grad)

# several inputs, outputs with grad_outputs
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
c = a * b + a**2
ga, gb = torch.autograd.grad(c, [a, b])
print(ga.item(), gb.item())
v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
(jv,) = torch.autograd.grad(v * v, v, grad_outputs=torch.ones(3))
print(jv)
