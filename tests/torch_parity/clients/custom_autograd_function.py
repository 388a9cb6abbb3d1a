"""A custom torch.autograd.Function (a Hermite polynomial) fitted with its hand-written backward."""

import math

import torch


class Hermite3(torch.autograd.Function):
    """He3(x) = x^3 - 3x, the third probabilists' Hermite polynomial."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input**3 - 3 * input

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * (3 * input**2 - 3)


class ScaledSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        ctx.save_for_backward(x)
        return scale * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * ctx.scale * x, None


dtype = torch.float
x = torch.linspace(-1, 1, 200, dtype=dtype)
y = torch.exp(x) * torch.cos(2 * x)

a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), 0.5, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.2, dtype=dtype, requires_grad=True)

learning_rate = 2e-4
for t in range(300):
    P3 = Hermite3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 60 == 59:
        print(t, round(loss.item(), 3))
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
print(f"Result: y = {a.item():.4f} + {b.item():.4f} * He3({c.item():.4f} + {d.item():.4f} x)")

z = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
out = ScaledSquare.apply(z, 1.5)
out.sum().backward()
print(out.detach(), z.grad, math.isclose(z.grad[0].item(), 3.0))
