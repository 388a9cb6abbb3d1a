"""Binary logistic regression: sigmoid with BCELoss, then logits with BCEWithLogitsLoss."""

import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.randn(100, 2)
y = ((X[:, 0] + 0.5 * X[:, 1]) > 0.2).float().unsqueeze(1)


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = LogisticRegression(2)
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for epoch in range(50):
    y_pred = model(X)
    loss = criterion(y_pred, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    if (epoch + 1) % 10 == 0:
        print(f"epoch: {epoch + 1}, loss = {loss.item():.4f}")
with torch.no_grad():
    y_predicted_cls = model(X).round()
    acc = y_predicted_cls.eq(y).sum() / float(y.shape[0])
    print(f"accuracy: {acc.item():.4f}")

logit_model = nn.Linear(2, 1)
opt = torch.optim.Adam(logit_model.parameters(), lr=0.1)
pos_weight = torch.tensor([2.0])
lossf = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
for _ in range(30):
    opt.zero_grad()
    l = lossf(logit_model(X), y)
    l.backward()
    opt.step()
print(round(l.item(), 4), ((logit_model(X) > 0).float() == y).float().mean().item())
print(
    round(
        nn.functional.binary_cross_entropy(
            torch.tensor([0.9, 0.2]), torch.tensor([1.0, 0.0])
        ).item(),
        5,
    )
)
