"""The cubic fit with an optimizer from torch.optim (RMSprop), then the same with Adam."""

import torch

x = torch.linspace(-2, 2, 300)
y = x - x**3 / 6
xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))

for name in ("RMSprop", "Adam"):
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = getattr(torch.optim, name)(model.parameters(), lr=1e-2)
    for t in range(300):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            print(name, t, round(loss.item(), 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    w = model[0].weight.detach().flatten()
    print(name, [round(v, 4) for v in w.tolist()], round(model[0].bias.item(), 4))
