"""torch.save / torch.load of tensors, lists, tuples and nested dicts of them."""

import torch

torch.manual_seed(0)
x = torch.arange(6.0).reshape(2, 3)
torch.save(x, "tensor.pt")
y = torch.load("tensor.pt")
print(y, y.dtype, torch.equal(x, y))

items = [torch.tensor([1, 2, 3]), torch.ones(2, dtype=torch.float64), torch.tensor(True)]
torch.save(items, "list.pt")
for t in torch.load("list.pt", weights_only=True):
    print(t, t.dtype)

record = {
    "epoch": 7,
    "name": "run-a",
    "metrics": {"loss": [0.9, 0.5, 0.25], "acc": 0.75},
    "weights": {"w": torch.randn(2, 2), "b": torch.zeros(2)},
    "shape": (3, 4),
    "note": None,
}
torch.save(record, "record.pt")
back = torch.load("record.pt", weights_only=True)
print(back["epoch"], back["name"], back["metrics"], back["note"])
print(
    back["weights"]["w"],
    torch.equal(back["weights"]["b"], record["weights"]["b"]),
)
print(tuple(back["shape"]) == (3, 4), sorted(back.keys()))

with open("stream.pt", "wb") as f:
    torch.save({"a": torch.tensor([0.5])}, f)
with open("stream.pt", "rb") as f:
    print(torch.load(f)["a"])
