"""Dropout and batch normalisation written from scratch, d2l style, checked against nn modules."""

import torch
from torch import nn


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
        moving_var = (1.0 - momentum) * moving_var + momentum * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


torch.manual_seed(0)
X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
print(dropout_layer(X, 0.0))
print(dropout_layer(X, 0.5))
print(dropout_layer(X, 1.0))

X = torch.randn(6, 3, 4, 4)
gamma, beta = torch.ones((1, 3, 1, 1)), torch.zeros((1, 3, 1, 1))
mm, mv = torch.zeros((1, 3, 1, 1)), torch.ones((1, 3, 1, 1))
Y, mm, mv = batch_norm(X, gamma, beta, mm, mv, eps=1e-5, momentum=0.1)
bn = nn.BatchNorm2d(3)
Y_ref = bn(X)
print((Y - Y_ref).abs().max().item() < 1e-5, mm.flatten())
print(bn.running_mean, bn.running_var)
print((mv.flatten() - bn.running_var).abs().max().item() < 0.05)
