"""A bag-of-embeddings classifier: nn.Embedding, an nn.ModuleList, LogSoftmax with NLLLoss."""

import torch
import torch.nn as nn

vocab = {w: i for i, w in enumerate("<pad> good great bad awful movie plot fine dull".split())}
sentences = [
    ("good movie", 1),
    ("great plot", 1),
    ("bad movie", 0),
    ("awful dull plot", 0),
    ("fine great movie", 1),
    ("dull bad", 0),
]


def encode(text, length=3):
    ids = [vocab[w] for w in text.split()]
    return ids + [0] * (length - len(ids))


X = torch.tensor([encode(s) for s, _ in sentences])
y = torch.tensor([label for _, label in sentences])
print(X, X.dtype)


class BagClassifier(nn.Module):
    def __init__(self, vocab_size, dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.layers = nn.ModuleList([nn.Linear(dim, hidden), nn.Linear(hidden, 2)])
        self.log_softmax = nn.LogSoftmax(dim=1)

    def forward(self, ids):
        mask = (ids != 0).float().unsqueeze(-1)
        h = (self.embedding(ids) * mask).sum(dim=1) / mask.sum(dim=1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = torch.relu(h)
        return self.log_softmax(h)


torch.manual_seed(0)
model = BagClassifier(len(vocab), 4, 8)
print(model.embedding.weight[0].detach(), tuple(model.embedding.weight.shape), len(model.layers))
loss_function = nn.NLLLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for epoch in range(20):
    model.zero_grad()
    loss = loss_function(model(X), y)
    loss.backward()
    optimizer.step()
    if epoch % 5 == 4:
        print(epoch, round(loss.item(), 4))
with torch.no_grad():
    print(model(X).argmax(dim=1), model.embedding(torch.tensor([1, 3])))
print(model.embedding.weight.grad[0], sum(p.numel() for p in model.parameters()))
