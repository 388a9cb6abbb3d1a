"""Forward and backward passes of the course's worked examples, with their graphs drawn.

Seed 002:
1. f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4: q = 3, f = -12, and back-propagation
   gives df/dz = q = 3 and df/dq = z = -4, which the add gate hands to x and y unchanged
   ("upstream gradient x local gradient").
2. The sigmoid neuron f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3),
   x = (-1, -2), built from primitive gates: the output is 0.73 and the gradient entering the
   sigmoid is [1.00] x [(1 - 0.73) 0.73] = 0.2.
3. The 3-2-1 sigmoid network's forward pass at X = (0.4, 0.2, 0.2).

Pictures: the three graphs with values (green) and gradients (red), drawn by
deepgrad.viz.draw_graph (PNG and SVG through Graphviz; DOT text when Graphviz is missing).
"""

from common import saved, setup

import deepgrad as torch
from deepgrad import nn
from deepgrad.viz import draw_graph, retain_grads

out, smoke = setup(__doc__)
files = []

# ---- 1. f = (x + y) z
x = torch.tensor(-2.0, requires_grad=True)
y = torch.tensor(5.0, requires_grad=True)
z = torch.tensor(-4.0, requires_grad=True)
q = x + y
f = q * z
retain_grads(f)  # keep the gradient of q (and f) too, not only of the leaves x, y, z
f.backward()
print(
    f"f = (x + y) z = {f.item():g};  df/dx = {x.grad.item():g}, df/dy = {y.grad.item():g}, "
    f"df/dz = {z.grad.item():g}, df/dq = {q.grad.item():g}"
)
names = {"x": x, "y": y, "z": z, "q": q, "f": f}
for suffix in (".png", ".svg"):
    files.append(draw_graph(f, out / f"graph_f_xyz{suffix}", params=names).path)

# ---- 2. the sigmoid neuron, gate by gate
w0, w1, w2 = (torch.tensor(v, requires_grad=True) for v in (2.0, -3.0, -3.0))
x0, x1 = (torch.tensor(v, requires_grad=True) for v in (-1.0, -2.0))
dot = w0 * x0 + w1 * x1 + w2
out_ = 1 / (1 + torch.exp(-dot))
retain_grads(out_)
out_.backward()
print(
    f"sigmoid neuron: f = {out_.item():.2f}; gradient into the sigmoid "
    f"{dot.grad.item():.2f} = (1 - {out_.item():.2f}) x {out_.item():.2f}"
)
print(
    "  df/dw =",
    [round(t.grad.item(), 2) for t in (w0, w1, w2)],
    " df/dx =",
    [round(t.grad.item(), 2) for t in (x0, x1)],
)
names = {"w0": w0, "x0": x0, "w1": w1, "x1": x1, "w2": w2, "f": out_}
files.append(draw_graph(out_, out / "graph_sigmoid_neuron.png", params=names).path)

# ---- 3. the 3-2-1 network of seed 002: hidden o = g(X W0 + b1), output g(o . w1 + b2)
net = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
with torch.no_grad():
    # nn.Linear keeps W transposed (out x in): row j holds the weights into hidden unit j
    net[0].weight.copy_(torch.tensor([[1.0, 0.2, 1.2], [0.5, 1.2, 0.1]]))
    net[0].bias.copy_(torch.tensor([0.1, 0.2]))
    net[2].weight.copy_(torch.tensor([[0.3, 0.9]]))
    net[2].bias.copy_(torch.tensor([0.3]))
X = torch.tensor([[0.4, 0.2, 0.2]])
hidden = net[1](net[0](X))
output = net[3](net[2](hidden))
a1 = net[0](X)
print(
    f"3-2-1 network: a = {[round(v, 4) for v in a1.tolist()[0]]} -> "
    f"o = {[round(v, 4) for v in hidden.tolist()[0]]} -> output {output.item():.4f}"
)
print(
    "  (the slide's arithmetic for o2 slips: it writes 0.1 * 0.2 = 0.03 and the sum as 0.49,\n"
    "   giving o2 = 0.62 and output 0.74; exactly, a2 = 0.66, o2 = 0.659, output 0.750)"
)
retain_grads(output)
output.backward()
graph = draw_graph(output, params={"X": X, "output": output}, model=net, collapse=None)
files.append(graph.save(out / "graph_321_network.png"))
saved(*files)
