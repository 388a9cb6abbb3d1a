"""Losses: every loss in every reduction, forward and backward against PyTorch (float64 to
1e-6 and float32 to ~1e-5), gradcheck on the fused ops, and each diagnostic triggered."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from conftest import assert_close
from deepgrad.autograd import gradcheck

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float64, np.float32]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _compare(our_loss, their_loss, x, target, grad_target=False, tol=None, extra=()):
    """Evaluate both losses on copies of (x, target); compare value and gradients.

    ``extra`` are further arrays passed (as tensors) after the target, e.g. weights."""
    xo = deepgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    to = deepgrad.tensor(target, requires_grad=grad_target)
    tt = torch.tensor(target, requires_grad=grad_target)
    lo = our_loss(xo, to, *[deepgrad.tensor(e) for e in extra])
    lt = their_loss(xt, tt, *[torch.tensor(e) for e in extra])
    if tol is None:
        tol = {"rtol": 2e-5, "atol": 2e-6} if x.dtype == np.float32 else {}
    assert_close(lo, lt.detach(), **tol)
    g = _rng(9).standard_normal(tuple(lt.shape)).astype(x.dtype)
    lo.backward(deepgrad.tensor(g))
    lt.backward(torch.tensor(g))
    assert_close(xo.grad, xt.grad, **tol)
    if grad_target:
        assert_close(to.grad, tt.grad, **tol)
    return lo


def _module_pair(name, **kwargs):
    ours_kwargs = {k: (deepgrad.tensor(v) if isinstance(v, np.ndarray) else v)
                   for k, v in kwargs.items()}  # fmt: skip
    theirs_kwargs = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v)
                     for k, v in kwargs.items()}  # fmt: skip
    return getattr(nn, name)(**ours_kwargs), getattr(torch.nn, name)(**theirs_kwargs)


# ---------------------------------------------------------------------------- regression
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss"])
def test_regression_losses(name, reduction, dtype):
    x = _rng(0).standard_normal((5, 3)).astype(dtype)
    y = _rng(1).standard_normal((5, 3)).astype(dtype)
    y[0, 0] = x[0, 0]  # L1's kink: gradient 0 there, as torch
    ours, theirs = _module_pair(name, reduction=reduction)
    _compare(ours, theirs, x, y, grad_target=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss"])
def test_regression_losses_with_weight(fn, reduction):
    x = _rng(0).standard_normal((4, 3))
    y = _rng(1).standard_normal((4, 3))
    w = _rng(2).uniform(0.5, 2, (4, 3))
    _compare(
        lambda a, b, w: getattr(F, fn)(a, b, reduction=reduction, weight=w),
        lambda a, b, w: getattr(torch.nn.functional, fn)(a, b, reduction=reduction, weight=w),
        x, y, grad_target=True, extra=(w,),
    )  # fmt: skip


def test_mse_broadcast_warns_with_the_fix_and_still_matches_torch():
    x = _rng(0).standard_normal((6, 1))
    y = _rng(1).standard_normal(6)
    with pytest.warns(nn.LikelyMistakeWarning, match=r"squeeze\(1\)"):
        lo = F.mse_loss(deepgrad.tensor(x), deepgrad.tensor(y))
    with pytest.warns(UserWarning):
        lt = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y))
    assert_close(lo, lt)


def _scores(rng):
    return rng.standard_normal((4, 3))


def _distributions(rng):
    e = np.exp(rng.standard_normal((4, 3)))
    return e / e.sum(1, keepdims=True)


def _labels(rng):
    return rng.random((4, 3))


MIXED_LOSSES = {  # case: (function, its target drawn from a generator, keyword arrays)
    "mse_loss": ("mse_loss", _scores, {}),
    "l1_loss": ("l1_loss", _scores, {}),
    "smooth_l1_loss": ("smooth_l1_loss", _scores, {}),
    "kl_div": ("kl_div", _distributions, {}),
    "cross_entropy_probs": ("cross_entropy", _distributions, {}),
    "bce_with_logits": ("binary_cross_entropy_with_logits", _labels, {}),
    "bce_with_logits_pos_weight": (
        "binary_cross_entropy_with_logits",
        _labels,
        {"pos_weight": np.array([0.5, 1.0, 2.0])},
    ),
}


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.float64, np.float32)])
@pytest.mark.parametrize("case", sorted(MIXED_LOSSES))
def test_mixed_float_dtypes_match_torch(case, dtypes, reduction):
    """Input and target of different float widths: the loss's dtype (the promoted one, but a
    float target's for BCE with logits), its value, and each gradient in its own tensor's dtype,
    as in PyTorch; both ways round (the op registry draws a float32 input, float64 target)."""
    fn, draw_target, extra = MIXED_LOSSES[case]
    x = _scores(_rng(0)).astype(dtypes[0])
    y = draw_target(_rng(1)).astype(dtypes[1])
    ours = [deepgrad.tensor(a, requires_grad=True) for a in (x, y)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, y)]
    ours_extra = {k: deepgrad.tensor(v) for k, v in extra.items()}
    theirs_extra = {k: torch.tensor(v) for k, v in extra.items()}
    lo = getattr(F, fn)(*ours, reduction=reduction, **ours_extra)
    lt = getattr(torch.nn.functional, fn)(*theirs, reduction=reduction, **theirs_extra)
    assert_close(lo, lt.detach())
    g = _rng(9).standard_normal(tuple(lt.shape)).astype(lt.detach().numpy().dtype)
    lo.backward(deepgrad.tensor(g))
    lt.backward(torch.tensor(g))
    for o, t in zip(ours, theirs):
        assert_close(o.grad, t.grad)


# ---------------------------------------------------------------------------- binary
def _probabilities(shape, dtype, seed=0):
    p = 1 / (1 + np.exp(-_rng(seed).standard_normal(shape) * 3))
    p.flat[0], p.flat[1] = 0.0, 1.0  # log(0): PyTorch clamps the log at -100
    return p.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(reduction, dtype, weighted):
    p = _probabilities((6, 3), dtype)
    y = (_rng(1).random((6, 3)) > 0.5).astype(dtype)
    y[0, 0], y[0, 1] = 1.0, 0.0  # the clamped logs are used (p=0 with y=1, p=1 with y=0)
    y[1, 0] = 0.3  # soft labels are allowed
    kwargs = {"reduction": reduction}
    if weighted:
        kwargs["weight"] = _rng(2).uniform(0.5, 2, (3,)).astype(dtype)
    ours, theirs = _module_pair("BCELoss", **kwargs)
    lo = _compare(ours, theirs, p, y)
    assert np.all(np.isfinite(lo._data))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits(reduction, dtype, options):
    z = (_rng(0).standard_normal((5, 3)) * 4).astype(dtype)
    z[0, :2] = [100.0, -100.0]  # stable at extreme logits
    y = (_rng(1).random((5, 3)) > 0.5).astype(dtype)
    kwargs = {"reduction": reduction}
    if options in ("weight", "both"):
        kwargs["weight"] = _rng(2).uniform(0.5, 2, (5, 1)).astype(dtype)
    if options in ("pos_weight", "both"):
        kwargs["pos_weight"] = _rng(3).uniform(0.5, 3, (3,)).astype(dtype)
    ours, theirs = _module_pair("BCEWithLogitsLoss", **kwargs)
    lo = _compare(ours, theirs, z, y, grad_target=True)
    assert np.all(np.isfinite(lo._data))


def test_bce_on_probabilities_equals_bce_with_logits_on_logits():
    z = _rng(0).standard_normal((8, 1))
    y = (_rng(1).random((8, 1)) > 0.5).astype(np.float64)
    a = F.binary_cross_entropy(F.sigmoid(deepgrad.tensor(z)), deepgrad.tensor(y))
    b = F.binary_cross_entropy_with_logits(deepgrad.tensor(z), deepgrad.tensor(y))
    assert_close(a, b)


# ---------------------------------------------------------------------------- cross-entropy
CE_OPTIONS = [
    {},
    {"weight": True},
    {"ignore_index": 1},
    {"label_smoothing": 0.2},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.1},
    {"weight": True, "label_smoothing": 0.3},
]


def _ce_kwargs(options, c, dtype):
    kwargs = dict(options)
    if kwargs.pop("weight", False):
        kwargs["weight"] = _rng(5).uniform(0.2, 2, c).astype(dtype)
    return kwargs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 5), (2, 4, 3, 2), (4,)])
def test_cross_entropy_class_indices(shape, options, reduction, dtype):
    x = (_rng(0).standard_normal(shape) * 2).astype(dtype)
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    t = _rng(1).integers(0, 4, target_shape)
    if len(shape) == 2:
        t[:4] = [0, 1, 2, 3]  # the ignored class appears
    kwargs = _ce_kwargs(options, 4, dtype)
    kwargs["reduction"] = reduction
    ours, theirs = _module_pair("CrossEntropyLoss", **kwargs)
    _compare(ours, theirs, x, t)
    if not options:  # the functional form agrees with the module
        _compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
                 lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction=reduction),
                 x, t)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"label_smoothing": 0.25},
                                     {"weight": True, "label_smoothing": 0.1}],
                         ids=lambda o: "-".join(o) or "plain")  # fmt: skip
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4)])
def test_cross_entropy_probability_targets(shape, options, reduction, dtype):
    x = (_rng(0).standard_normal(shape) * 2).astype(dtype)
    q = _rng(1).random(shape)
    q = (q / q.sum(axis=1, keepdims=True)).astype(dtype)
    kwargs = _ce_kwargs(options, 3, dtype)
    kwargs["reduction"] = reduction
    ours, theirs = _module_pair("CrossEntropyLoss", **kwargs)
    _compare(ours, theirs, x, q, grad_target=True)


def test_cross_entropy_one_hot_float_targets_equal_class_indices():
    x = deepgrad.randn(5, 3)
    t = deepgrad.tensor([0, 2, 1, 1, 0])
    a = F.cross_entropy(x, t)
    b = F.cross_entropy(x, F.one_hot(t, 3).float())
    assert_close(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_extreme_logits_are_finite(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [0.0, 0.0, -1e4]], dtype=dtype)
    t = np.array([1, 1, 2])
    lo = _compare(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), x, t,
                  tol={"rtol": 1e-6, "atol": 1e-3})  # fmt: skip
    assert np.isfinite(lo.item())
    xo = deepgrad.tensor(x, requires_grad=True)
    F.cross_entropy(xo, deepgrad.tensor(t)).backward()
    assert np.all(np.isfinite(xo.grad._data))


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    x = deepgrad.randn(4, 5, requires_grad=True)
    t = deepgrad.tensor([4, 0, 2, 2])
    F.cross_entropy(x, t, reduction="sum").backward()
    expected = F.softmax(x.detach(), dim=1)._data - F.one_hot(t, 5)._data
    np.testing.assert_allclose(x.grad._data, expected, rtol=1e-5, atol=1e-6)


def test_cross_entropy_all_ignored_gives_nan_like_torch():
    x = _rng(0).standard_normal((3, 4))
    t = np.array([-100, -100, -100])
    lo = F.cross_entropy(deepgrad.tensor(x), deepgrad.tensor(t))
    lt = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(lo.item()) and np.isnan(lt.item())


# ---------------------------------------------------------------------------- NLL
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"ignore_index": 0},
                                     {"weight": True, "ignore_index": 3}],
                         ids=lambda o: "-".join(o) or "plain")  # fmt: skip
@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3), (4,)])
def test_nll_loss(shape, options, reduction, dtype):
    logits = _rng(0).standard_normal(shape)
    axis = 0 if len(shape) == 1 else 1
    logp = (logits - np.log(np.exp(logits).sum(axis=axis, keepdims=True))).astype(dtype)
    t = _rng(1).integers(0, 4, () if len(shape) == 1 else shape[:1] + shape[2:])
    kwargs = _ce_kwargs(options, 4, dtype)
    kwargs["reduction"] = reduction
    ours, theirs = _module_pair("NLLLoss", **kwargs)
    _compare(ours, theirs, logp, t)


def test_log_softmax_then_nll_equals_cross_entropy():
    x = deepgrad.randn(6, 4)
    t = deepgrad.tensor([0, 3, 1, 2, 2, 0])
    assert_close(F.nll_loss(F.log_softmax(x, dim=1), t), F.cross_entropy(x, t))


# ---------------------------------------------------------------------------- hinge losses
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"p": 2}, {"margin": 0.5}, {"weight": True},
                                     {"p": 2, "margin": 2.0, "weight": True}],
                         ids=lambda o: "-".join(o) or "plain")  # fmt: skip
@pytest.mark.parametrize("shape", [(8, 4), (4,)])
def test_multi_margin_loss(shape, options, reduction, dtype):
    x = _rng(0).standard_normal(shape).astype(dtype)
    t = _rng(1).integers(0, 4, () if len(shape) == 1 else shape[:1])
    kwargs = _ce_kwargs(options, 4, dtype)
    kwargs["reduction"] = reduction
    ours, theirs = _module_pair("MultiMarginLoss", **kwargs)
    _compare(ours, theirs, x, t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_embedding_loss(reduction, margin, dtype):
    x = (_rng(0).standard_normal((5, 4)) * 2).astype(dtype)
    y = np.where(_rng(1).random((5, 4)) > 0.5, 1.0, -1.0).astype(dtype)
    ours, theirs = _module_pair("HingeEmbeddingLoss", margin=margin, reduction=reduction)
    _compare(ours, theirs, x, y)


def test_hinge_embedding_recipe_gives_the_course_binary_hinge():
    # the recipe in HingeEmbeddingLoss's docstring: max(0, 1 - t y) for t in {-1, +1}
    scores = _rng(0).standard_normal(10)
    t = np.where(_rng(1).random(10) > 0.5, 1.0, -1.0)
    s, tt = deepgrad.tensor(scores, requires_grad=True), deepgrad.tensor(t)
    loss = nn.HingeEmbeddingLoss(margin=1.0)(tt * s, -deepgrad.ones_like(tt))
    expected = np.maximum(0, 1 - t * scores).mean()  # the course's formula, in NumPy
    assert np.isclose(loss.item(), expected)
    assert np.isclose(F.relu(1 - tt * s).mean().item(), expected)
    loss.backward()
    np.testing.assert_allclose(s.grad._data, np.where(1 - t * scores > 0, -t, 0) / 10)


# ---------------------------------------------------------------------------- KL
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target, dtype):
    logits = _rng(0).standard_normal((4, 5))
    logp = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(dtype)
    q = _rng(1).random((4, 5)) + 0.05
    q = q / q.sum(1, keepdims=True)
    q[0, 0] = 0.0  # t log t = 0 at t = 0 (not nan); torch's xlogy agrees
    target = (np.log(q + 1e-3) if log_target else q).astype(dtype)
    ours, theirs = _module_pair("KLDivLoss", reduction=reduction, log_target=log_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'mean' warns in both libraries
        _compare(ours, theirs, logp, target, grad_target=log_target)


def test_kl_div_batchmean_is_the_true_kl():
    p = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    q = np.array([[0.3, 0.4, 0.3], [0.2, 0.2, 0.6]])
    kl = np.sum(q * np.log(q / p)) / 2  # KL(q || p) per sample, from the definition
    loss = nn.KLDivLoss(reduction="batchmean")(deepgrad.tensor(np.log(p)), deepgrad.tensor(q))
    assert np.isclose(loss.item(), kl)


def test_kl_div_mean_warns_that_it_is_not_kl():
    x = F.log_softmax(deepgrad.randn(3, 4), dim=1)
    with pytest.warns(UserWarning, match="batchmean"):
        nn.KLDivLoss()(x, F.softmax(deepgrad.randn(3, 4), dim=1))


def test_kl_div_warns_on_probabilities_as_input():
    p = F.softmax(deepgrad.randn(3, 4), dim=1)
    with pytest.warns(nn.LikelyMistakeWarning, match="log_softmax") as record:
        nn.KLDivLoss(reduction="batchmean")(p, p)
    assert record[0].filename == __file__  # attributed to the user's line, not deepgrad's


# ---------------------------------------------------------------------------- gradcheck
def _t(a, grad=False):
    return deepgrad.tensor(np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
                           else np.asarray(a), requires_grad=grad)  # fmt: skip


GRADCHECKS = [
    ("cross_entropy", lambda x: F.cross_entropy(x, _t([0, 2, 1, 2]))),
    ("cross_entropy_all_options", lambda x: F.cross_entropy(
        x, _t([0, 2, 1, 1]), weight=_t([0.5, 2.0, 1.0]), ignore_index=1, label_smoothing=0.2,
        reduction="sum")),
    ("cross_entropy_probs", lambda x: F.cross_entropy(
        x, _t([[0.2, 0.3, 0.5]] * 4), label_smoothing=0.1, weight=_t([1.0, 2.0, 3.0]))),
    ("nll", lambda x: F.nll_loss(x, _t([0, 2, 1, 2]), weight=_t([0.5, 2.0, 1.0]))),
    ("bce", lambda x: F.binary_cross_entropy(F.sigmoid(x), _t(np.full((4, 3), 0.3)))),
    ("bce_logits", lambda x: F.binary_cross_entropy_with_logits(
        x, _t(np.full((4, 3), 0.7)), pos_weight=_t([1.0, 2.0, 0.5]), reduction="sum")),
    ("mse", lambda x: F.mse_loss(x, _t(np.ones((4, 3))), reduction="none")),
    ("l1", lambda x: F.l1_loss(x, _t(np.full((4, 3), 5.0)))),
    ("kl", lambda x: F.kl_div(F.log_softmax(x, 1), _t(np.full((4, 3), 1 / 3)),
                              reduction="batchmean")),
    ("multi_margin_p2", lambda x: F.multi_margin_loss(x, _t([0, 2, 1, 2]), p=2, margin=0.1,
                                                      weight=_t([1.0, 2.0, 3.0]))),
]  # fmt: skip


@pytest.mark.parametrize("name,fn", GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_loss_ops_pass_gradcheck(name, fn):
    x = deepgrad.tensor(_rng(4).standard_normal((4, 3)), requires_grad=True)
    report = gradcheck(fn, (x,))
    assert report, str(report)


def test_target_gradients_pass_gradcheck():
    x = _t(_rng(0).standard_normal((3, 4)))
    q = _t(_rng(1).random((3, 4)), grad=True)
    assert gradcheck(lambda q: F.cross_entropy(x, q, label_smoothing=0.1), (q,))
    assert gradcheck(lambda q: F.binary_cross_entropy_with_logits(
        x, q, pos_weight=_t([2.0, 1.0, 0.5, 3.0])), (q,))  # fmt: skip
    t = _t(_rng(2).standard_normal((3, 4)) - 1, grad=True)
    logp = F.log_softmax(x, dim=1)
    assert gradcheck(lambda t: F.kl_div(logp, t, reduction="sum", log_target=True), (t,))
    p = _t(_rng(3).random((3, 4)) + 0.1, grad=True)
    assert gradcheck(lambda p: F.kl_div(logp, p, reduction="batchmean"), (p,))


# ---------------------------------------------------------------------------- diagnostics
def test_double_softmax_warns():
    probs = F.softmax(deepgrad.randn(8, 10), dim=1)
    t = deepgrad.randint(0, 10, (8,))
    with pytest.warns(nn.LikelyMistakeWarning, match="double softmax"):
        nn.CrossEntropyLoss()(probs, t)
    # an N-d input is checked over its class axis
    probs_nd = F.softmax(deepgrad.randn(2, 3, 4), dim=1)
    with pytest.warns(nn.LikelyMistakeWarning, match="Softmax"):
        F.cross_entropy(probs_nd, deepgrad.zeros(2, 4, dtype=deepgrad.int64))


def test_no_double_softmax_warning_for_logits_or_almost_probabilities():
    t = deepgrad.randint(0, 4, (6,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.cross_entropy(deepgrad.randn(6, 4), t)
        rows = np.full((6, 4), 0.3, dtype=np.float32)  # non-negative, but rows sum to 1.2
        F.cross_entropy(deepgrad.tensor(rows), t)
        rows = F.softmax(deepgrad.randn(6, 4), dim=1)._data.copy()
        rows[5] += 0.01  # one row off: not all rows are probabilities
        F.cross_entropy(deepgrad.tensor(rows), t)


def test_nll_on_probabilities_warns():
    with pytest.warns(nn.LikelyMistakeWarning, match="log_softmax"):
        F.nll_loss(F.softmax(deepgrad.randn(4, 3), dim=1), deepgrad.tensor([0, 1, 2, 0]))


def test_one_hot_target_with_wrong_width_is_explained():
    x = deepgrad.randn(4, 10)
    onehot = F.one_hot(deepgrad.tensor([0, 1, 2, 1]), 3).float()
    with pytest.raises(ValueError, match=r"num_classes=10.*argmax\(dim=1\)"):
        nn.CrossEntropyLoss()(x, onehot)
    with pytest.raises(RuntimeError):
        torch.nn.CrossEntropyLoss()(torch.randn(4, 10), torch.zeros(4, 3))  # torch fails too


def test_integer_one_hot_target_is_explained():
    x = deepgrad.randn(4, 3)
    onehot = F.one_hot(deepgrad.tensor([0, 1, 2, 1]), 3)
    with pytest.raises(ValueError, match=r"one-hot.*argmax\(dim=1\).*float\(\)"):
        nn.CrossEntropyLoss()(x, onehot)
    with pytest.raises(ValueError, match="one-hot"):
        nn.NLLLoss()(F.log_softmax(x, dim=1), onehot)


def test_float_class_indices_are_explained():
    with pytest.raises(RuntimeError, match=r"target\.long\(\)"):
        nn.CrossEntropyLoss()(deepgrad.randn(4, 3), deepgrad.tensor([0.0, 1.0, 2.0, 1.0]))


def test_target_of_shape_n_by_1_is_explained():
    with pytest.raises(ValueError, match=r"shape \(4,\).*view\(4\)"):
        nn.CrossEntropyLoss()(deepgrad.randn(4, 3), deepgrad.tensor([[0], [1], [2], [1]]))


@pytest.mark.parametrize("bad", [10, -1])
def test_class_index_out_of_range_names_value_and_class_count(bad):
    t = deepgrad.tensor([0, bad, 3])
    with pytest.raises(IndexError, match=rf"target value {bad} is out of range for 10 classes"):
        nn.CrossEntropyLoss()(deepgrad.randn(3, 10), t)
    with pytest.raises(IndexError, match=rf"{bad}.*10 classes"):
        nn.NLLLoss()(F.log_softmax(deepgrad.randn(3, 10), dim=1), t)
    with pytest.raises(IndexError, match=rf"{bad}.*10 classes"):
        nn.MultiMarginLoss()(deepgrad.randn(3, 10), t)
    with pytest.raises((IndexError, RuntimeError)):
        torch.nn.CrossEntropyLoss()(torch.randn(3, 10), torch.tensor([0, bad, 3]))


def test_labels_starting_at_one_hint():
    with pytest.raises(IndexError, match="subtract 1"):
        F.cross_entropy(deepgrad.randn(3, 3), deepgrad.tensor([1, 2, 3]))


def test_bce_outside_unit_interval_says_sigmoid_is_missing():
    logits = deepgrad.tensor([[2.5], [-1.0]])
    y = deepgrad.tensor([[1.0], [0.0]])
    with pytest.raises(RuntimeError, match=r"sigmoid.*BCEWithLogitsLoss"):
        nn.BCELoss()(logits, y)
    with pytest.raises(RuntimeError):
        torch.nn.BCELoss()(torch.tensor([[2.5], [-1.0]]), torch.tensor([[1.0], [0.0]]))
    with pytest.raises(RuntimeError, match="sigmoid"):
        nn.BCELoss()(deepgrad.tensor([[float("nan")], [0.5]]), y)


def test_bce_target_outside_unit_interval_is_explained():
    with pytest.raises(RuntimeError, match=r"\(y \+ 1\) / 2"):
        nn.BCELoss()(deepgrad.tensor([0.2, 0.7]), deepgrad.tensor([-1.0, 1.0]))


def test_bce_shape_mismatch_is_an_error_with_the_fix():
    with pytest.raises(ValueError, match=r"view\(-1, 1\)"):
        nn.BCELoss()(deepgrad.rand(4, 1), deepgrad.tensor([0.0, 1.0, 1.0, 0.0]))
    with pytest.raises(ValueError):
        torch.nn.BCELoss()(torch.rand(4, 1), torch.tensor([0.0, 1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="different"):
        nn.BCEWithLogitsLoss()(deepgrad.randn(4, 1), deepgrad.tensor([0.0, 1.0, 1.0, 0.0]))


def test_invalid_reduction_and_legacy_flags():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")
    # size_average / reduce map to reductions as in torch
    x, y = _rng(0).standard_normal(4), _rng(1).standard_normal(4)
    for kwargs in ({"size_average": False}, {"reduce": False}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lt = torch.nn.MSELoss(**kwargs)(torch.tensor(x), torch.tensor(y))
        assert_close(nn.MSELoss(**kwargs)(deepgrad.tensor(x), deepgrad.tensor(y)), lt)


def test_loss_weight_is_a_buffer_in_state_dict():
    w = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    ours = nn.CrossEntropyLoss(weight=deepgrad.tensor(w))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    ours.double()
    assert ours.weight.dtype == deepgrad.float64
