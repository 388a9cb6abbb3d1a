"""Early stopping on a validation loss, keeping the best weights with deepcopy(state_dict())."""

import copy

import torch
import torch.nn as nn

torch.manual_seed(0)
X_train, X_val = torch.randn(40, 1), torch.randn(20, 1)
y_train = torch.sin(3 * X_train) + 0.3 * torch.randn(40, 1)
y_val = torch.sin(3 * X_val)
model = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
criterion = nn.MSELoss()

best_loss, best_state, best_epoch = float("inf"), None, -1
patience, bad_epochs = 5, 0
for epoch in range(200):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(X_train), y_train)
    loss.backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = criterion(model(X_val), y_val).item()
    if val_loss < best_loss - 1e-4:
        best_loss, best_epoch, bad_epochs = val_loss, epoch, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            print(f"early stop at epoch {epoch}")
            break
model.load_state_dict(best_state)
with torch.no_grad():
    print(best_epoch, round(best_loss, 4), round(criterion(model(X_val), y_val).item(), 4))
print(best_state["0.weight"] is not model.state_dict()["0.weight"])
