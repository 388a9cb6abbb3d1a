"""A small fully connected autoencoder with an encoder and a decoder sub-module."""

import torch
import torch.nn as nn


class AutoEncoder(nn.Module):
    def __init__(self, n_in=12, n_code=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_in, 8), nn.ReLU(), nn.Linear(8, n_code))
        self.decoder = nn.Sequential(
            nn.Linear(n_code, 8), nn.ReLU(), nn.Linear(8, n_in), nn.Sigmoid()
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


torch.manual_seed(0)
codes = torch.rand(64, 3)
data = torch.sigmoid(codes @ torch.randn(3, 12))
model = AutoEncoder()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.MSELoss()
for epoch in range(40):
    recon = model(data)
    loss = criterion(recon, data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 10 == 9:
        print(f"Epoch:{epoch + 1}, Loss:{loss.item():.5f}")
with torch.no_grad():
    z = model.encoder(data[:2])
    print(tuple(z.shape), z)
    print(model.decoder(z).shape[1], round(((model(data) - data) ** 2).mean().item(), 5))
