"""deepgrad.set_num_threads / get_num_threads against torch's, and the libraries they govern."""

import numpy as np
import pytest
import threadpoolctl
import torch

import deepgrad
from deepgrad.kernels import products, threads


@pytest.fixture
def restore_threads():
    blas = threadpoolctl.threadpool_info()
    yield
    threads.set_num_threads(None)
    for lib in blas:
        if lib["internal_api"] == "openblas":
            threadpoolctl.threadpool_limits(lib["num_threads"], user_api="blas")


@pytest.mark.parametrize("bad", [0, -1, 2.5, "2", None, True])
def test_the_same_errors_as_torch(bad):
    with pytest.raises((RuntimeError, TypeError)) as theirs:
        torch.set_num_threads(bad)
    with pytest.raises(type(theirs.value)) as ours:
        deepgrad.set_num_threads(bad)
    if type(bad) is not bool and bad is not None:  # torch's binding words these its own way
        assert str(ours.value) == str(theirs.value)


def test_get_returns_what_was_set_and_the_environment_otherwise(restore_threads, monkeypatch):
    monkeypatch.setenv("DEEPGRAD_NUM_THREADS", "3")
    assert deepgrad.get_num_threads() == 3
    deepgrad.set_num_threads(2)
    assert deepgrad.get_num_threads() == 2 == threads.num_threads()
    threads.set_num_threads(None)
    assert deepgrad.get_num_threads() == 3


def test_numpy_openblas_follows(restore_threads):
    np.ones((64, 64)) @ np.ones((64, 64))  # OpenBLAS loaded and started
    openblas = [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"]
    if not openblas:
        pytest.skip("NumPy does not use OpenBLAS here")
    for n in (1, 2, 1):
        deepgrad.set_num_threads(n)
        told = [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"]
        assert [i["num_threads"] for i in told] == [n] * len(told)


def test_kernels_and_mkl_follow(restore_threads, monkeypatch, request):
    seen = []
    monkeypatch.setattr(threads, "run_shares", lambda shares: seen.append(len(shares)))
    deepgrad.set_num_threads(1)
    threads.run_split(lambda *a: None, (), 100)  # one share: run here, not on the team
    deepgrad.set_num_threads(2)
    threads.run_split(lambda *a: None, (), 100)
    assert seen == [2]
    request.getfixturevalue("mkl_products")  # MKL wherever its wheel loads (conftest.py)
    a = np.ones((256, 256), np.float32)
    for n in (1, 2):
        deepgrad.set_num_threads(n)
        np.testing.assert_array_equal(products.matmul(a, a), a @ a)
        assert products._state["threads"] == n


def test_environment_is_read_at_each_call_in_its_order(restore_threads, monkeypatch):
    """DEEPGRAD_NUM_THREADS before OMP_NUM_THREADS before OPENBLAS_NUM_THREADS; a value that is
    not a positive integer is passed over; a change (or removal) counts at the next call."""
    for var in ("DEEPGRAD_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "5")
    assert threads.num_threads() == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "abc")
    assert threads.num_threads() == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "0")
    assert threads.num_threads() == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert threads.num_threads() == 4
    monkeypatch.setenv("DEEPGRAD_NUM_THREADS", "3")
    assert threads.num_threads() == 3
    monkeypatch.delenv("DEEPGRAD_NUM_THREADS")
    assert threads.num_threads() == 4
