"""Shared by the kernel tests: running a snippet in a fresh Python process, for settings
that only take effect when a library loads (threads, BLAS, OpenMP)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _run_python(code: str, base_env=None, **env) -> str:
    """stdout of ``python -c code`` (stripped) in ``base_env`` (default: this process's
    environment) with ``env`` added; fails the test on a non-zero exit, showing stderr."""
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**(os.environ if base_env is None else base_env), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


@pytest.fixture
def run_python():
    return _run_python
