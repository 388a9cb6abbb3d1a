"""``interrupts_deferred``: a SIGINT inside the block comes as ``KeyboardInterrupt`` right after
it, never inside; the handler in place before is put back."""

from __future__ import annotations

import signal
import threading

import pytest

from deepgrad.utils.interrupts import interrupts_deferred


@pytest.fixture
def python_handler():
    """Python's own SIGINT handler for the test (whatever the runner had), put back after."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set in the main thread")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_inside_the_block_comes_after_it(python_handler):
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            signal.raise_signal(signal.SIGINT)
            steps.append("the block went on")
        steps.append("after the block")
    assert steps == ["the block went on"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_without_a_ctrl_c_the_block_just_runs(python_handler):
    with interrupts_deferred():
        value = 1
    assert value == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_exception_in_the_block_puts_the_handler_back(python_handler):
    with pytest.raises(ValueError):
        with interrupts_deferred():
            raise ValueError("inside")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_custom_handler_gets_the_deferred_signal(python_handler):
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    with interrupts_deferred():
        signal.raise_signal(signal.SIGINT)
        assert received == []
    assert received == [signal.SIGINT]
