"""nn.Module, Parameter and the containers, against PyTorch's behaviour."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as nn
from conftest import assert_close, to_torch


def build(lib):
    """The same small model in deepgrad and in torch (``lib`` is the nn module)."""

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.Sequential(
                lib.Linear(4, 8), lib.ReLU(), lib.Dropout(0.5), lib.Linear(8, 8)
            )
            self.norm = lib.BatchNorm1d(8)
            self.heads = lib.ModuleList([lib.Linear(8, 3), lib.Linear(8, 3)])
            self.extra = lib.ModuleDict({"act": lib.Tanh(), "out": lib.Linear(3, 2, bias=False)})
            self.scale = lib.Parameter(torch_or_dg(lib).ones(2))
            self.register_buffer("offset", torch_or_dg(lib).zeros(2))
            self.register_buffer("scratch", torch_or_dg(lib).zeros(1), persistent=False)

        def forward(self, x):
            h = self.norm(self.features(x))
            h = self.heads[0](h) + self.heads[1](h)
            return self.extra["out"](self.extra["act"](h)) * self.scale + self.offset

    return Net()


def torch_or_dg(lib):
    return torch if lib is torch.nn else deepgrad


@pytest.fixture
def pair():
    ours, theirs = build(nn), build(torch.nn)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


# ---------------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_tensor_sharing_storage():
    t = deepgrad.ones(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, deepgrad.Tensor) and p.requires_grad and p.is_leaf
    assert p._data is t._data  # no copy, as torch.nn.Parameter
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is deepgrad.Tensor  # arithmetic gives plain tensors


def test_parameter_repr_matches_torch():
    v = np.array([[0.5, -1.25, 2.0], [3.0, 0.0, -0.75]], dtype=np.float32)
    ours = repr(nn.Parameter(deepgrad.tensor(v)))
    theirs = repr(torch.nn.Parameter(torch.tensor(v)))
    assert ours == theirs
    assert ours.startswith("Parameter containing:\n")


def test_parameter_of_integers_is_refused():
    with pytest.raises(RuntimeError, match="floating"):
        nn.Parameter(deepgrad.tensor([1, 2]))


def test_parameter_survives_deepcopy_and_pickle():
    p = nn.Parameter(deepgrad.randn(3))
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert isinstance(q, nn.Parameter) and q.requires_grad
        assert np.array_equal(q._data, p._data) and q._data is not p._data


# ---------------------------------------------------------------------------- registration
def test_names_and_traversal_match_torch(pair):
    ours, theirs = pair
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(m).__name__ for m in ours.modules()] == [
        type(m).__name__ for m in theirs.modules()
    ]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    tseq = torch.nn.Sequential(*(lambda l: [l, torch.nn.ReLU(), l])(torch.nn.Linear(3, 3)))
    assert len(list(seq.parameters())) == len(list(tseq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters()] == [n for n, _ in tseq.named_parameters()]


def test_parameters_recurse_false_and_getattr():
    m = build(nn)
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["scale"]
    assert m.get_submodule("features.3") is m.features[3]
    assert m.get_parameter("features.0.weight") is m.features[0].weight
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = m.nope


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_an_error():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"nn.Parameter\(\.\.\.\)"):
        lin.weight = lin.weight * 2
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 2).weight = torch.nn.Linear(2, 2).weight * 2  # torch agrees
    lin.bias = None  # None is allowed, as in torch
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_reassignment_moves_an_attribute_between_stores():
    m = nn.Module()
    m.x = nn.Parameter(deepgrad.zeros(1))
    m.x = nn.Linear(1, 1)
    assert "x" not in m._parameters and "x" in m._modules
    del m.x
    assert not hasattr(m, "x")


def test_forgetting_super_init_says_how_to_fix():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_plain_list_of_layers_warns_that_they_are_not_registered():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    with pytest.warns(UserWarning, match="ModuleList"):
        m = Bad()
    assert list(m.parameters()) == []  # what the warning is about


def test_missing_forward_is_explained():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(deepgrad.zeros(1))


# ---------------------------------------------------------------------------- modes and grads
def test_train_eval_propagate(pair):
    ours, theirs = pair
    ours.eval()
    theirs.eval()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    assert not any(m.training for m in ours.modules())
    assert ours.train() is ours and all(m.training for m in ours.modules())


def test_zero_grad_set_to_none_and_to_zero():
    lin = nn.Linear(3, 2)
    lin(deepgrad.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in lin.parameters())
    lin.zero_grad(set_to_none=False)
    assert all(np.all(p.grad._data == 0) for p in lin.parameters())
    lin.zero_grad()
    assert all(p.grad is None for p in lin.parameters())


def test_requires_grad_(pair):
    ours, _ = pair
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())


def test_apply_visits_children_first_like_torch(pair):
    ours, theirs = pair
    seen_ours, seen_theirs = [], []
    ours.apply(lambda m: seen_ours.append(type(m).__name__))
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs


def test_apply_for_custom_init():
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model.apply(init_weights)
    assert all(np.all(m.weight._data == 0) for m in model if isinstance(m, nn.Linear))


# ---------------------------------------------------------------------------- dtypes
def test_double_float_to_keep_parameter_objects():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    params = list(m.parameters())
    m(deepgrad.randn(4, 3)).sum().backward()
    assert m.double() is m
    assert list(m.parameters()) == params  # same objects: an optimiser built before still works
    assert all(p.dtype == deepgrad.float64 for p in m.parameters())
    assert all(p.grad.dtype == deepgrad.float64 for p in m.parameters())
    assert m[1].running_mean.dtype == deepgrad.float64
    assert m[1].num_batches_tracked.dtype == deepgrad.int64  # integers stay integers
    m.float()
    assert all(p.dtype == deepgrad.float32 for p in m.parameters())
    m.to(deepgrad.float64)
    assert m[0].weight.dtype == deepgrad.float64
    m.to("cpu")
    m.to(dtype=deepgrad.float32)
    assert m[0].weight.dtype == deepgrad.float32
    if not deepgrad.cuda.is_available():
        with pytest.raises(RuntimeError, match="not available"):
            m.to("cuda")


# ---------------------------------------------------------------------------- state_dict
def test_load_torch_state_dict_gives_torch_outputs(pair):
    ours, theirs = pair
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert_close(ours(deepgrad.tensor(x)), theirs(torch.tensor(x)).detach())


def test_state_dict_shares_storage_and_round_trips():
    m = build(nn)
    sd = m.state_dict()
    assert list(sd) == [k for k in sd]  # ordered
    assert "scratch" not in sd  # non-persistent buffer, as torch
    assert all(not v.requires_grad for v in sd.values())
    with deepgrad.no_grad():
        m.features[0].weight.add_(1.0)
    assert np.array_equal(sd["features.0.weight"]._data, m.features[0].weight._data)

    saved = copy.deepcopy(m.state_dict())
    m2 = build(nn)
    result = m2.load_state_dict(saved)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (k, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert np.array_equal(a._data, b._data), k
    m2.eval()
    m.eval()
    x = deepgrad.randn(3, 4)
    assert np.array_equal(m(x)._data, m2(x)._data)


def test_load_state_dict_strict_errors_list_keys_and_shapes():
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    sd = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)).state_dict()
    del sd["2.bias"]
    sd["3.weight"] = deepgrad.zeros(1)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    msg = str(info.value)
    assert 'Missing key(s) in state_dict: "2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "3.weight"' in msg
    assert "size mismatch for 0.weight" in msg and "(5, 4)" in msg and "(3, 4)" in msg
    assert "size mismatch for 2.weight" in msg and "(2, 5)" in msg
    assert "strict=False" in msg

    # the same checkpoint in torch fails for the same keys
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    tsd = {k: to_torch(v) for k, v in sd.items()}
    with pytest.raises(RuntimeError) as tinfo:
        tm.load_state_dict(tsd)
    for key in ("2.bias", "3.weight", "0.weight", "2.weight"):
        assert key in str(tinfo.value)


def test_load_state_dict_non_strict_reports_keys_like_torch():
    m = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    sd = tm.state_dict()
    sd.pop("1.bias")
    sd["extra.weight"] = torch.zeros(1)
    ours = m.load_state_dict(sd, strict=False)
    theirs = tm.load_state_dict(sd, strict=False)
    assert ours.missing_keys == theirs.missing_keys
    assert ours.unexpected_keys == theirs.unexpected_keys
    assert_close(m[0].weight, tm[0].weight.detach())
    # size mismatches fail even when not strict (as torch)
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict({"0.weight": deepgrad.zeros(2, 2)}, strict=False)


def test_state_dict_holds_batchnorm_buffers_like_torch():
    bn, tbn = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == list(tbn.state_dict())
    x = np.random.default_rng(1).standard_normal((4, 3, 2, 2)).astype(np.float32)
    for _ in range(3):
        bn(deepgrad.tensor(x))
        tbn(torch.tensor(x))
    for k, v in tbn.state_dict().items():
        assert_close(bn.state_dict()[k], v)


def test_module_deepcopy_and_pickle():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    model(deepgrad.randn(5, 4))  # move the running statistics away from their defaults
    model.eval()
    x = deepgrad.randn(2, 4)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert list(clone.state_dict()) == list(model.state_dict())
        assert clone[0].weight is not model[0].weight
        assert isinstance(clone[0].weight, nn.Parameter)
        for k, v in model.state_dict().items():
            assert np.array_equal(clone.state_dict()[k]._data, v._data), k
        assert np.array_equal(clone(x)._data, model(x)._data)


# ---------------------------------------------------------------------------- repr
def _same_repr(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "deepgrad.")


def test_repr_matches_torch(pair):
    ours, theirs = pair
    _same_repr(ours, theirs)


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.Sequential(
            nn.Linear(2, 3),
            nn.ModuleList([nn.ReLU() for _ in range(3)] + [nn.Tanh(), nn.Linear(3, 3)]),
            nn.ModuleDict({"a": nn.Dropout(0.2)}),
            nn.BatchNorm1d(3),
            nn.BatchNorm2d(3, affine=False, momentum=None),
            nn.Softmax(dim=1),
            nn.LogSoftmax(dim=-1),
            nn.LeakyReLU(0.1),
            nn.ELU(alpha=0.5),
            nn.Softplus(beta=2.0),
            nn.GELU(),
            nn.GELU(approximate="tanh"),
            nn.Flatten(),
            nn.Unflatten(1, (2, 3)),
            nn.Identity(),
            nn.Hardtanh(),
            nn.ReLU6(),
            nn.SiLU(),
            nn.Sigmoid(),
            nn.Softsign(),
            nn.ReLU(inplace=True),
        ),
        lambda nn: nn.Sequential(
            nn.CrossEntropyLoss(),
            nn.MSELoss(),
            nn.BCELoss(),
            nn.BCEWithLogitsLoss(),
            nn.NLLLoss(),
            nn.L1Loss(),
            nn.KLDivLoss(),
            nn.MultiMarginLoss(),
            nn.HingeEmbeddingLoss(),
        ),  # fmt: skip
        lambda nn: nn.ModuleList(),
        lambda nn: nn.Linear(5, 1, bias=False),
    ],
)
def test_repr_of_layers_matches_torch(make):
    _same_repr(make(nn), make(torch.nn))


def test_parameter_list_and_dict():
    pl = nn.ParameterList([nn.Parameter(deepgrad.randn(2, 3)), deepgrad.randn(4)])
    tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(2, 3)), torch.randn(4)])
    _same_repr(pl, tpl)
    assert [n for n, _ in pl.named_parameters()] == [n for n, _ in tpl.named_parameters()]
    assert len(pl) == 2 and isinstance(pl[1], nn.Parameter)
    pd = nn.ParameterDict({"a": deepgrad.zeros(2), "b": deepgrad.zeros(3, dtype=deepgrad.float64)})
    tpd = torch.nn.ParameterDict({"a": torch.zeros(2), "b": torch.zeros(3, dtype=torch.float64)})
    _same_repr(pd, tpd)
    assert [n for n, _ in pd.named_parameters()] == [n for n, _ in tpd.named_parameters()]
    assert "a" in pd and len(pd) == 2


def test_extra_repr_is_used():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.k = 3

        def extra_repr(self):
            return f"k={self.k}"

    assert repr(nn.Sequential(Scale())) == "Sequential(\n  (0): Scale(k=3)\n)"


# ---------------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 4 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[-1]
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:3]
    assert [n for n, _ in sub.named_children()] == ["1", "2"]  # names kept, as torch
    tseq = torch.nn.Sequential(*[torch.nn.Identity() for _ in range(4)])
    assert [n for n, _ in tseq[1:3].named_children()] == ["1", "2"]
    with pytest.raises(IndexError):
        seq[4]
    seq.append(nn.Sigmoid())
    assert len(seq) == 5 and isinstance(seq[4], nn.Sigmoid)
    seq[1] = nn.GELU()
    assert isinstance(seq[1], nn.GELU)
    del seq[0]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    assert isinstance(seq[0], nn.GELU)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert named.fc is named[0]


def test_sequential_forward_chains_modules():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tseq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    seq.load_state_dict(tseq.state_dict())
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    assert_close(seq(deepgrad.tensor(x)), tseq(torch.tensor(x)).detach())


def test_sequential_rejects_a_class_instead_of_an_instance():
    with pytest.raises(TypeError, match=r"nn.ReLU\(\)"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in ml] == [
        "Sigmoid", "Linear", "Linear", "Linear", "ReLU", "Tanh"
    ]  # fmt: skip
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    assert ml[-1] is list(ml)[-1]
    del ml[0]
    assert [n for n, _ in ml.named_children()] == ["0", "1", "2", "3", "4"]
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    md["b"] = nn.ReLU()
    assert list(md.keys()) == ["a", "b"] and "b" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    md.pop("b")
    assert list(md) == ["a"]


# ---------------------------------------------------------------------------- hooks
def test_forward_hooks_run_and_can_be_removed():
    lin = nn.Linear(2, 3)
    shapes = []
    handle = lin.register_forward_hook(lambda m, inp, out: shapes.append(tuple(out.shape)))
    pre = lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 0,))
    out = lin(deepgrad.ones(4, 2))
    assert shapes == [(4, 3)]
    assert np.allclose(out._data, lin.bias._data)  # the pre-hook zeroed the input
    handle.remove()
    pre.remove()
    lin(deepgrad.ones(1, 2))
    assert shapes == [(4, 3)]


# ---------------------------------------------------------------------------- layer paths
def test_wrong_width_names_the_layer_path():
    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(256, 10))

        def forward(self, x):
            return self.layers(x)

    with pytest.raises(RuntimeError) as info:
        MLP()(deepgrad.randn(64, 784))
    msg = str(info.value)
    assert msg.startswith("Linear layer 'layers.2' (in_features=256) got input of shape (64, 128)")
    assert isinstance(info.value, nn.LayerInputError)
    assert info.value.path == ["layers", "2"]
    # torch fails on the same model too (with a less specific message)
    tm = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    with pytest.raises(RuntimeError):
        tm(torch.randn(64, 784))


def test_layer_path_through_nested_containers():
    model = nn.Sequential(
        OrderedDict(
            [
                ("encoder", nn.ModuleDict({"proj": nn.Linear(4, 4)})),
                ("blocks", nn.ModuleList([nn.Linear(4, 4), nn.Linear(5, 4)])),
            ]
        )
    )

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            x = self.model.encoder["proj"](x)
            for block in self.model.blocks:
                x = block(x)
            return x

    with pytest.raises(RuntimeError, match=r"'model\.blocks\.1' \(in_features=5\)"):
        Wrapper()(deepgrad.randn(2, 4))


def test_standalone_layer_error_and_dtype_error():
    with pytest.raises(RuntimeError, match=r"^Linear layer \(in_features=3\) got input of shape"):
        nn.Linear(3, 2)(deepgrad.randn(2, 4))
    with pytest.raises(RuntimeError, match=r"dtype float64.*x\.float\(\).*model\.double\(\)"):
        nn.Sequential(nn.Linear(3, 2))(deepgrad.randn(2, 3).double())
    with pytest.raises(TypeError, match="from_numpy"):
        nn.Linear(3, 2)(np.zeros((2, 3), dtype=np.float32))


def test_no_warnings_on_a_normal_forward():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.CrossEntropyLoss()(model(deepgrad.randn(5, 3)), deepgrad.tensor([0, 1, 0, 1, 1]))


def test_parameters_order_equals_named_parameters_with_sharing():
    shared = nn.Linear(2, 2)
    inner = nn.Sequential(nn.Linear(2, 2), shared)
    model = nn.ModuleDict({"a": inner, "b": nn.Sequential(shared, nn.Linear(2, 3)), "c": inner})
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]
    assert list(model.modules()) == model._module_list()
