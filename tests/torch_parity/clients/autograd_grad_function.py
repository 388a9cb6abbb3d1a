"""torch.autograd.grad: derivatives returned as values, leaving every .grad untouched."""

import torch

x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
w = torch.tensor([1.0, -1.0, 0.5], requires_grad=True)
y = (w * x**3).sum()
(dx,) = torch.autograd.grad(y, x, retain_graph=True)
print(dx)
print(x.grad is None, w.grad is None)  # autograd.grad fills no .grad
dx, dw = torch.autograd.grad(y, (x, w))
print(dx, dw)

# the gradient of a loss with respect to the input, e.g. for a saliency map
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
inputs = torch.tensor([[0.2, -0.4], [1.0, 0.3]], requires_grad=True)
out = model(inputs).sum()
(saliency,) = torch.autograd.grad(out, inputs)
print(saliency)
print(all(p.grad is None for p in model.parameters()), inputs.grad is None)
out = model(inputs).sum()
grads = torch.autograd.grad(out, list(model.parameters()))
print([tuple(g.shape) for g in grads], grads[-1])

# several inputs, and a non-scalar output with grad_outputs
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
c = a * b + a**2
ga, gb = torch.autograd.grad(c, [a, b])
print(ga.item(), gb.item())
v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
(jv,) = torch.autograd.grad(v * v, v, grad_outputs=torch.ones(3))
print(jv)
(unused,) = torch.autograd.grad((v * 2).sum(), [v], allow_unused=True)
print(unused)

# backward(inputs=...) accumulates into the listed leaves only
p = torch.tensor([1.0, 2.0], requires_grad=True)
q = torch.tensor([3.0, 4.0], requires_grad=True)
(p * q).sum().backward(inputs=[p])
print(p.grad, q.grad)
