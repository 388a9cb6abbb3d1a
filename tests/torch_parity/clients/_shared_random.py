"""One random stream for both frameworks, so the client programs can be compared number by number.

deepgrad draws from NumPy's PCG64 and PyTorch from its own Mersenne Twister, on purpose (see
``deepgrad/random.py``), so ``torch.manual_seed(0); torch.randn(3)`` gives different numbers in
the two. A client program seeds, initialises layers, shuffles and drops out, so without a common
stream nothing it prints after its first random draw could be compared.

``install(fw, nn, F, init, data)`` wraps the random entry points of one framework. Each wrapper
first calls the framework's own function (so its argument handling: ``size=``, ``dtype=``,
``requires_grad=``, ``generator=``, shapes, is what runs and is tested), then overwrites the
values of the result with numbers from one NumPy generator that ``manual_seed`` reseeds. The
same wrapper code is installed into torch and into deepgrad, so both see the same numbers
whenever they make the same calls in the same order: a layer whose initialisation draws
with different bounds or in a different order still shows up as a difference.

Wrapped: ``manual_seed``, ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``,
``rand_like``, ``randn_like``, ``Tensor.uniform_``/``normal_``, ``nn.init.uniform_``/``normal_``
(the kaiming and xavier initialisers reach one of these; deepgrad's ``orthogonal_`` does not),
``nn.functional.dropout`` (the mask), ``RandomSampler`` (DataLoader's ``shuffle=True``),
``SubsetRandomSampler`` and ``random_split``. The ``generator=`` argument is accepted and passed
on, but the values come from the one stream.
Nested calls (torch's ``init.uniform_`` calls ``Tensor.uniform_``) draw once, in the outermost.
"""

from __future__ import annotations

import numpy as np

_state = {"rng": np.random.default_rng(0), "depth": 0}


def reseed(seed: int) -> None:
    _state["rng"] = np.random.default_rng(int(seed))


def stream() -> np.random.Generator:
    """The one NumPy generator behind every wrapped draw (replaced when reseeded)."""
    return _state["rng"]


_rng = stream


def _wrap(orig, draw, overwrite):
    """``orig`` with its result's values replaced by ``draw(result, args, kwargs)``."""

    def wrapper(*args, **kwargs):
        if _state["depth"]:
            return orig(*args, **kwargs)
        _state["depth"] += 1
        try:
            out = orig(*args, **kwargs)
        finally:
            _state["depth"] -= 1
        overwrite(out, draw(out, args, kwargs))
        return out

    wrapper.__name__ = getattr(orig, "__name__", "wrapper")
    wrapper.__wrapped__ = orig
    return wrapper


def _arg(args, kwargs, i, name, default):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _np(x):
    """A number or a tensor of either framework as a NumPy value."""
    if hasattr(x, "detach"):
        return x.detach().numpy()
    return np.asarray(x, dtype=np.float64)


def install(fw, nn, F, init, data) -> None:
    """Route the random draws of framework ``fw`` (torch or deepgrad) through the one stream."""

    def overwrite(out, values):
        if isinstance(out, tuple | list):  # random_split: nothing to copy
            return
        with fw.no_grad():
            out.copy_(fw.from_numpy(np.array(values)).to(out.dtype))  # np.array keeps 0-d

    def shape(out):
        return tuple(out.shape)

    def uniform(a_i, b_i, a_name, b_name):
        def draw(out, args, kwargs):
            a = float(_arg(args, kwargs, a_i, a_name, 0.0))
            b = float(_arg(args, kwargs, b_i, b_name, 1.0))
            return a + (b - a) * _rng().random(shape(out))

        return draw

    def gauss(m_i, s_i, m_name, s_name):
        def draw(out, args, kwargs):
            m = _np(_arg(args, kwargs, m_i, m_name, 0.0))
            s = _np(_arg(args, kwargs, s_i, s_name, 1.0))
            return m + s * _rng().standard_normal(shape(out))

        return draw

    def randint_draw(out, args, kwargs):
        # randint(high, size) or randint(low, high, size), any of them by keyword
        pos = list(args)
        if "size" not in kwargs:
            pos.pop()
        if len(pos) >= 2:
            low, high = pos[0], pos[1]
        elif len(pos) == 1:
            low, high = kwargs.get("low", 0), pos[0]
        else:
            low, high = kwargs.get("low", 0), kwargs["high"]
        return _rng().integers(int(low), int(high), shape(out))

    orig_seed = fw.manual_seed

    def manual_seed(seed):
        reseed(seed)
        return orig_seed(seed)

    fw.manual_seed = manual_seed
    fw.rand = _wrap(fw.rand, lambda out, a, k: _rng().random(shape(out)), overwrite)
    fw.rand_like = _wrap(fw.rand_like, lambda out, a, k: _rng().random(shape(out)), overwrite)
    fw.randn = _wrap(fw.randn, lambda out, a, k: _rng().standard_normal(shape(out)), overwrite)
    fw.randn_like = _wrap(
        fw.randn_like, lambda out, a, k: _rng().standard_normal(shape(out)), overwrite
    )
    fw.randint = _wrap(fw.randint, randint_draw, overwrite)
    fw.randperm = _wrap(fw.randperm, lambda out, a, k: _rng().permutation(len(out)), overwrite)
    fw.normal = _wrap(fw.normal, gauss(0, 1, "mean", "std"), overwrite)
    # Tensor methods: args[0] is the tensor itself
    fw.Tensor.uniform_ = _wrap(fw.Tensor.uniform_, uniform(1, 2, "from", "to"), overwrite)
    fw.Tensor.normal_ = _wrap(fw.Tensor.normal_, gauss(1, 2, "mean", "std"), overwrite)
    init.uniform_ = _wrap(init.uniform_, uniform(1, 2, "a", "b"), overwrite)
    init.normal_ = _wrap(init.normal_, gauss(1, 2, "mean", "std"), overwrite)

    orig_dropout = F.dropout

    def dropout(input, p=0.5, training=True, inplace=False):
        out = orig_dropout(input, p, training, inplace)  # validates p, as the framework does
        if not training or p == 0.0:
            return out
        keep = (_rng().random(tuple(input.shape)) >= p).astype(np.float64) / (1.0 - p)
        return input * fw.from_numpy(keep).to(input.dtype)

    F.dropout = dropout

    def sampler_iter(self):
        yield from _rng().permutation(len(self.data_source)).tolist()

    data.RandomSampler.__iter__ = sampler_iter
    if hasattr(data.RandomSampler, "_indices"):  # deepgrad's batching reads the order here
        data.RandomSampler._indices = lambda self: _rng().permutation(len(self.data_source))

    subset_sampler = data.SubsetRandomSampler

    def subset_iter(self):
        for i in _rng().permutation(len(self.indices)).tolist():
            yield self.indices[i]

    subset_sampler.__iter__ = subset_iter
    if hasattr(subset_sampler, "_indices"):
        subset_sampler._indices = lambda self: np.asarray(list(subset_iter(self)), dtype=np.int64)

    orig_split = data.random_split

    def random_split(dataset, lengths, generator=None):
        parts = (
            orig_split(dataset, lengths, generator) if generator else orig_split(dataset, lengths)
        )
        perm = _rng().permutation(len(dataset)).tolist()
        start = 0
        for part in parts:
            part.indices = perm[start : start + len(part)]
            start += len(part)
        return parts

    data.random_split = random_split
