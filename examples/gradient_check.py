"""Numerical gradients next to back-propagation (seed 002, "How to compute gradient?").

    forward difference   df/dx_i ~ (f(x + h e_i) - f(x)) / h
    central difference   df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)

1. The lecture's f(W, x) = W . x with W = (-0.8, 0.3), x = (0.5, -0.2): nudge W_1 by h and
   compare with the gradient autograd finds (x itself).
2. How the error depends on h for a non-linear function (the 3-2-1 sigmoid network): too big
   an h and the difference quotient is not the derivative (truncation error, O(h) forward,
   O(h^2) central); too small and rounding error takes over. In float64 the best h for
   central differences is around 1e-5 to 1e-6 (the lecture's "usually use h = 1e-6"), which
   makes them "a powerful tool to check the correctness of implementation".
3. The same check for a whole model, parameter by parameter (deepgrad.autograd.check_model),
   and how it catches an op whose backward forgot a factor 2.

Picture: the error of both difference quotients against h (log-log).
"""

import numpy as np
from common import saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.autograd import Op
from deepgrad.autograd.model_check import check_model
from deepgrad.viz import new_figure, save_figure

out, smoke = setup(__doc__)

# ---- 1. the lecture's dot product
W = torch.tensor([-0.8, 0.3], dtype=torch.float64, requires_grad=True)
x = torch.tensor([0.5, -0.2], dtype=torch.float64)
f = W @ x
f.backward()
h = 1e-6
with torch.no_grad():
    nudged = torch.tensor([-0.8 + h, 0.3], dtype=torch.float64) @ x
print(f"f(W, x) = W . x = {f.item():.2f}")
print(f"  df/dW_1 by forward difference: {(nudged - f).item() / h:.6f}")
print(f"  df/dW_1 by back-propagation:   {W.grad[0].item():.6f}  (= x_1)")


# ---- 2. error against h for the 3-2-1 sigmoid network of seed 002, in float64
def network(w11):
    """The network's output as a function of w11, the weight from x1 into hidden unit 1."""
    x1, x2, x3 = 0.4, 0.2, 0.2
    o1 = torch.sigmoid(w11 * x1 + 0.2 * x2 + 1.2 * x3 + 0.1)
    o2 = torch.sigmoid(torch.tensor(0.5 * x1 + 1.2 * x2 + 0.1 * x3 + 0.2, dtype=torch.float64))
    return torch.sigmoid(0.3 * o1 + 0.9 * o2 + 0.3)


w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
network(w).backward()
exact = w.grad.item()
hs = np.logspace(-1, -13, 7 if smoke else 61)
forward_err, central_err = [], []
with torch.no_grad():
    f0 = network(torch.tensor(1.0, dtype=torch.float64)).item()
    for h in hs:
        plus = network(torch.tensor(1.0 + h, dtype=torch.float64)).item()
        minus = network(torch.tensor(1.0 - h, dtype=torch.float64)).item()
        forward_err.append(abs((plus - f0) / h - exact))
        central_err.append(abs((plus - minus) / (2 * h) - exact))
best = hs[int(np.argmin(central_err))]
print(
    f"d output / d w11 = {exact:.10f} by back-propagation; the central difference is "
    f"closest at h = {best:.0e}"
)

fig = new_figure(6.4, 4.4)
ax = fig.add_subplot()
ax.loglog(hs, np.maximum(forward_err, 1e-17), "o-", ms=3, label="forward difference")
ax.loglog(hs, np.maximum(central_err, 1e-17), "o-", ms=3, label="central difference")
ax.axvline(1e-6, color="gray", linestyle="--", linewidth=0.8)
ax.text(8e-7, 1e-13, "h = 1e-6", color="gray")
ax.invert_xaxis()
ax.set(
    xlabel="step h",
    ylabel="|numerical - back-propagated gradient|",
    title="gradient check: truncation error (left) vs rounding error (right)",
)
ax.grid(alpha=0.3, which="both")
ax.legend()
fig.tight_layout()
files = save_figure(fig, out / "gradient_check_error.png")


# ---- 3. a whole model, and a bug it catches
class ForgetfulSquare(Op):
    """x^2 whose backward forgot the 2: it returns g x instead of 2 g x."""

    def forward(ctx, x):
        ctx.saved = (x,)
        return x * x

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * x


class Net(nn.Module):
    def __init__(self, square=None):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)
        self.square = square

    def forward(self, x):
        h = torch.tanh(self.hidden(x))
        return self.out(h if self.square is None else self.square.apply(h))


inputs, labels = torch.randn(16, 4), torch.randint(0, 3, (16,))
print("\n" + str(check_model(Net(), nn.CrossEntropyLoss(), inputs, labels)))
print("\nwith the forgetful square between the layers:")
print(check_model(Net(ForgetfulSquare), nn.CrossEntropyLoss(), inputs, labels))
saved(*files)
