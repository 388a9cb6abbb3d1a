"""Samplers: SubsetRandomSampler for a train/validation split of indices, sampler= in DataLoader,
SequentialSampler and BatchSampler."""

import torch
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler, TensorDataset
from torch.utils.data.sampler import SubsetRandomSampler

torch.manual_seed(0)
X = torch.arange(24, dtype=torch.float32).reshape(12, 2)
y = torch.arange(12) % 3
dataset = TensorDataset(X, y)
indices = list(range(len(dataset)))
split = 4
train_idx, valid_idx = indices[split:], indices[:split]
train_sampler = SubsetRandomSampler(train_idx)
valid_sampler = SubsetRandomSampler(valid_idx)
train_loader = DataLoader(dataset, batch_size=3, sampler=train_sampler)
valid_loader = DataLoader(dataset, batch_size=4, sampler=valid_sampler)
for epoch in range(2):
    seen = [xb[:, 0].div(2).long().tolist() for xb, _ in train_loader]
    print(epoch, seen, sorted(sum(seen, [])) == train_idx)
print([yb.tolist() for _, yb in valid_loader], len(train_loader), len(valid_sampler))
print(list(SequentialSampler(range(4))))
print(list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)))
print(list(BatchSampler(range(7), batch_size=3, drop_last=True)))
loader = DataLoader(dataset, batch_sampler=BatchSampler(SequentialSampler(dataset), 5, False))
print([tuple(xb.shape) for xb, _ in loader])
