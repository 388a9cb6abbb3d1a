"""Dataset, DataLoader, samplers, collate and random_split, against torch.utils.data."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import deepgrad
from conftest import to_np
from deepgrad.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)


def _pair(n=23, d=3, seed=0):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, d)).astype(np.float32)
    y = g.integers(0, 5, n).astype(np.int64)
    return x, y


def _same_batch(ours, theirs):
    """A deepgrad batch equals a torch batch: same container types, dtypes and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, deepgrad.Tensor), type(ours)
        a, e = to_np(ours), to_np(theirs)
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_array_equal(a, e)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for k in theirs:
            _same_batch(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours).__name__ == type(theirs).__name__, (type(ours), type(theirs))
        assert len(ours) == len(theirs)
        for a, e in zip(ours, theirs):
            _same_batch(a, e)
    else:
        assert ours == theirs


# ------------------------------------------------------------------ TensorDataset and friends
def test_tensor_dataset_items_and_len():
    x, y = _pair()
    ds = TensorDataset(deepgrad.tensor(x), deepgrad.tensor(y))
    tds = tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    assert len(ds) == len(tds) == 23
    for i in (0, 5, -1):
        _same_batch(ds[i], tds[i])


def test_tensor_dataset_size_mismatch_is_clear():
    with pytest.raises(ValueError, match=r"Size mismatch.*\(4, 2\), \(3,\)"):
        TensorDataset(deepgrad.zeros(4, 2), deepgrad.zeros(3))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match="argument 1 is a list"):
        TensorDataset(deepgrad.zeros(3), [1, 2, 3])


def test_subset_and_concat_match_torch():
    x, y = _pair()
    ds = TensorDataset(deepgrad.tensor(x), deepgrad.tensor(y))
    tds = tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    idx = [4, 0, 22, 7]
    sub, tsub = Subset(ds, idx), tud.Subset(tds, idx)
    assert len(sub) == 4
    for i in range(4):
        _same_batch(sub[i], tsub[i])
    cat, tcat = ConcatDataset([ds, sub]), tud.ConcatDataset([tds, tsub])
    cat2 = ds + sub
    assert len(cat) == len(tcat) == len(cat2) == 27
    for i in (0, 22, 23, 26, -1, -27):
        _same_batch(cat[i], tcat[i])
        _same_batch(cat2[i], tcat[i])


# ------------------------------------------------------------------ DataLoader vs torch
@pytest.mark.parametrize("batch_size", [1, 4, 7, 23, 64])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_matches_torch_without_shuffle(batch_size, drop_last):
    x, y = _pair()
    ours = DataLoader(
        TensorDataset(deepgrad.tensor(x), deepgrad.tensor(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want) == len(ours)
    for a, e in zip(got, want):
        _same_batch(a, e)


def test_loader_over_subset_uses_subset_order():
    x, y = _pair()
    idx = [9, 3, 3, 17, 0, 12, 5]
    ours = DataLoader(Subset(TensorDataset(deepgrad.tensor(x), deepgrad.tensor(y)), idx), 3)
    theirs = tud.DataLoader(
        tud.Subset(tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), idx), 3
    )
    for a, e in zip(ours, theirs, strict=True):
        _same_batch(a, e)


@pytest.mark.parametrize("n", [0, 1, 9, 10, 11, 100])
@pytest.mark.parametrize("batch_size", [1, 3, 10])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_matches_torch(n, batch_size, drop_last):
    ours = DataLoader(TensorDataset(deepgrad.zeros(n, 2)), batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(tud.TensorDataset(torch.zeros(n, 2)), batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert sum(1 for _ in ours) == sum(1 for _ in theirs)


def test_batch_size_none_yields_converted_samples():
    x, y = _pair(n=5)
    ours = list(DataLoader(TensorDataset(deepgrad.tensor(x), deepgrad.tensor(y)), None))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), None))
    assert len(ours) == len(theirs) == 5
    for a, e in zip(ours, theirs):
        _same_batch(a, e)


class _Samples(Dataset):
    """A generic data set (no fast path) returning whatever ``make(i)`` gives."""

    def __init__(self, n, make):
        self.n, self.make = n, make

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.make(i)


Point = collections.namedtuple("Point", ["x", "label"])


def _to_torch_sample(s):
    if isinstance(s, deepgrad.Tensor):
        return torch.from_numpy(np.array(s.numpy()))
    if isinstance(s, Point):
        return Point(*(_to_torch_sample(v) for v in s))
    if isinstance(s, dict):
        return {k: _to_torch_sample(v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return type(s)(_to_torch_sample(v) for v in s)
    return s


SAMPLE_KINDS = {
    "tensor_int": lambda i: (deepgrad.full((2, 3), float(i)), i),
    "float_bool": lambda i: (float(i) / 3, i % 2 == 0),
    "dict": lambda i: {"x": deepgrad.arange(3) * i, "y": i / 2, "name": f"s{i}"},
    "nested": lambda i: (deepgrad.tensor([i, i]), (i, [float(i), deepgrad.tensor(1.0)])),
    "numpy": lambda i: (np.full(4, i, np.float64), np.int32(i), np.float32(i / 4)),
    "namedtuple": lambda i: Point(deepgrad.tensor([float(i)]), i),
    "list_sample": lambda i: [i, deepgrad.tensor(i)],
}


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
def test_generic_collate_matches_torch(kind):
    make = SAMPLE_KINDS[kind]
    ours = DataLoader(_Samples(7, make), batch_size=3)
    theirs = tud.DataLoader(_Samples(7, lambda i: _to_torch_sample(make(i))), batch_size=3)
    for a, e in zip(ours, theirs, strict=True):
        _same_batch(a, e)


def test_collate_errors_are_clear():
    with pytest.raises(RuntimeError, match=r"equal size.*\(2,\), \(3,\)"):
        default_collate([deepgrad.zeros(2), deepgrad.zeros(3)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])


def test_collate_keeps_autograd():
    w = deepgrad.ones(3, requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full(3, 5.0, np.float32))


def test_custom_collate_fn_and_sampler():
    x, y = _pair(n=10)
    ds = TensorDataset(deepgrad.tensor(x), deepgrad.tensor(y))
    seen = []

    def collate(batch):
        seen.append(len(batch))
        return [s[1].item() for s in batch]

    order = [3, 1, 4, 1, 5, 9, 2, 6]
    got = list(DataLoader(ds, batch_size=3, sampler=order, collate_fn=collate))
    assert got == [[int(y[i]) for i in order[k : k + 3]] for k in range(0, 8, 3)]
    assert seen == [3, 3, 2]
    # the same custom order through the fast path
    fast = [b[1].tolist() for b in DataLoader(ds, batch_size=3, sampler=order)]
    assert fast == got


def test_batch_sampler_argument_matches_torch():
    x, y = _pair(n=10)
    batches = [[0, 1], [9], [4, 5, 6]]
    ours = DataLoader(TensorDataset(deepgrad.tensor(x), deepgrad.tensor(y)), batch_sampler=batches)
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_sampler=batches
    )
    assert len(ours) == len(theirs) == 3
    for a, e in zip(ours, theirs, strict=True):
        _same_batch(a, e)


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False)])
def test_batch_sampler_lists_match_torch(n, bs, drop):
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    # a plain iterable sampler takes the general path
    assert list(BatchSampler(iter(range(n)), bs, drop)) == list(theirs)


def test_bad_arguments_raise_like_torch():
    ds = TensorDataset(deepgrad.zeros(4))
    tds = tud.TensorDataset(torch.zeros(4))
    cases = [
        dict(shuffle=True, sampler=[0, 1]),
        dict(batch_sampler=[[0]], batch_size=2),
        dict(batch_sampler=[[0]], drop_last=True),
        dict(batch_size=None, drop_last=True),
        dict(batch_size=0),
        dict(num_workers=-1),
    ]
    for kwargs in cases:
        with pytest.raises(ValueError):
            tud.DataLoader(tds, **kwargs)
        with pytest.raises(ValueError):
            DataLoader(ds, **kwargs)


def test_num_workers_is_ignored_with_a_warning():
    ds = TensorDataset(deepgrad.arange(6))
    with pytest.warns(UserWarning, match="num_workers=2 is ignored"):
        loader = DataLoader(ds, batch_size=4, num_workers=2)
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(ds, num_workers=0)


class _Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("drop_last", [False, True])
def test_iterable_dataset_matches_torch(drop_last):
    class TorchStream(tud.IterableDataset):
        def __iter__(self):
            return iter(range(10))

        def __len__(self):
            return 10

    ours = DataLoader(_Stream(10), batch_size=4, drop_last=drop_last)
    theirs = tud.DataLoader(TorchStream(), batch_size=4, drop_last=drop_last)
    assert len(ours) == len(theirs)
    for a, e in zip(ours, theirs, strict=True):
        _same_batch(a, e)
    with pytest.raises(ValueError):
        DataLoader(_Stream(3), shuffle=True)


# ------------------------------------------------------------------ shuffling
def _epoch(loader):
    return np.concatenate([to_np(b[0]) for b in loader])


def test_shuffle_reproducible_under_manual_seed_and_covers_each_sample_once():
    n = 101
    ds = TensorDataset(deepgrad.arange(n), deepgrad.arange(n) * 10)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    deepgrad.manual_seed(123)
    e1, e2 = _epoch(loader), _epoch(loader)
    deepgrad.manual_seed(123)
    again1, again2 = _epoch(loader), _epoch(loader)
    deepgrad.manual_seed(124)
    other = _epoch(loader)
    np.testing.assert_array_equal(e1, again1)
    np.testing.assert_array_equal(e2, again2)
    for e in (e1, e2, other):
        np.testing.assert_array_equal(np.sort(e), np.arange(n))  # every sample exactly once
    assert not np.array_equal(e1, np.arange(n))  # shuffled at all
    assert not np.array_equal(e1, e2)  # a new order each epoch
    assert not np.array_equal(e1, other)  # a different seed gives a different order
    # labels travel with their samples
    for xb, yb in loader:
        np.testing.assert_array_equal(to_np(yb), to_np(xb) * 10)


def test_shuffle_with_generator_ignores_global_seed():
    ds = TensorDataset(deepgrad.arange(50))
    g1 = deepgrad.Generator().manual_seed(7)
    g2 = deepgrad.Generator().manual_seed(7)
    deepgrad.manual_seed(1)
    a = _epoch(DataLoader(ds, batch_size=5, shuffle=True, generator=g1))
    deepgrad.manual_seed(2)
    b = _epoch(DataLoader(ds, batch_size=5, shuffle=True, generator=g2))
    np.testing.assert_array_equal(a, b)


def test_fast_and_generic_paths_give_the_same_shuffled_batches():
    x, y = _pair(n=40)
    ds = TensorDataset(deepgrad.tensor(x), deepgrad.tensor(y))
    generic = _Samples(40, lambda i: ds[i])
    deepgrad.manual_seed(5)
    fast_batches = list(DataLoader(ds, batch_size=6, shuffle=True))
    deepgrad.manual_seed(5)
    slow_batches = list(DataLoader(generic, batch_size=6, shuffle=True))
    for a, b in zip(fast_batches, slow_batches, strict=True):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(to_np(u), to_np(v))
            assert u.dtype == v.dtype


def test_order_is_fixed_when_the_epoch_starts():
    ds = TensorDataset(deepgrad.arange(30))
    loader = DataLoader(ds, batch_size=30, shuffle=True)
    deepgrad.manual_seed(3)
    it = iter(loader)
    deepgrad.manual_seed(99)  # must not change the epoch already started
    first = to_np(next(it)[0])
    deepgrad.manual_seed(3)
    np.testing.assert_array_equal(first, _epoch(loader))


def test_random_samplers():
    deepgrad.manual_seed(0)
    with_rep = list(RandomSampler(range(5), replacement=True, num_samples=40))
    assert len(with_rep) == 40 and set(with_rep) <= set(range(5))
    many = list(RandomSampler(range(5), num_samples=12))
    assert sorted(many[:5]) == list(range(5)) and sorted(many[5:10]) == list(range(5))
    assert len(many) == 12
    sub = list(SubsetRandomSampler([10, 20, 30]))
    assert sorted(sub) == [10, 20, 30]
    with pytest.raises(ValueError):
        RandomSampler(range(5), num_samples=0)


def test_subclassed_sampler_iter_is_respected():
    class Backwards(SequentialSampler):
        def __iter__(self):
            return iter(reversed(range(len(self.data_source))))

    ds = TensorDataset(deepgrad.arange(5))
    got = _epoch(DataLoader(ds, batch_size=2, sampler=Backwards(ds)))
    np.testing.assert_array_equal(got, [4, 3, 2, 1, 0])


# ------------------------------------------------------------------ random_split
@pytest.mark.parametrize(
    "n,lengths",
    [
        (10, [3, 7]),
        (10, [0.3, 0.7]),
        (11, [0.5, 0.5]),
        (100, [0.33, 0.33, 0.34]),
        (7, [0.2, 0.2, 0.2, 0.2, 0.2]),
        (60000, [0.9, 0.1]),
    ],
)
def test_random_split_lengths_match_torch_and_are_disjoint(n, lengths):
    ds = TensorDataset(deepgrad.arange(n))
    parts = random_split(ds, lengths)
    tparts = tud.random_split(tud.TensorDataset(torch.arange(n)), lengths)
    assert [len(p) for p in parts] == [len(p) for p in tparts]
    indices = np.concatenate([np.asarray(p.indices, dtype=np.int64) for p in parts])
    np.testing.assert_array_equal(np.sort(indices), np.arange(n))  # disjoint, complete
    assert all(isinstance(p.indices, list) for p in parts)  # like torch
    # a subset's samples are the dataset's samples at its indices
    p = parts[-1]
    for k in range(min(3, len(p))):
        assert p[k][0].item() == p.indices[k]


def test_random_split_reproducible_and_errors():
    ds = TensorDataset(deepgrad.arange(20))
    deepgrad.manual_seed(11)
    a = [p.indices for p in random_split(ds, [5, 15])]
    deepgrad.manual_seed(11)
    b = [p.indices for p in random_split(ds, [5, 15])]
    g = deepgrad.Generator().manual_seed(1)
    c = [p.indices for p in random_split(ds, [5, 15], generator=g)]
    assert a == b and a != c
    with pytest.raises(ValueError, match="add up to 19"):
        random_split(ds, [5, 14])
    with pytest.raises(ValueError):
        random_split(ds, [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(TensorDataset(deepgrad.arange(1)), [0.5, 0.5])


def test_utils_data_alias():
    from deepgrad.utils.data.dataloader import DataLoader as DL2

    import deepgrad.utils.data as dud

    assert deepgrad.utils.data.DataLoader is DataLoader is dud.DataLoader is DL2
    assert dud.TensorDataset is TensorDataset and dud.random_split is random_split
