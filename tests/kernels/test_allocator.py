"""deepgrad tunes glibc's allocator at import, and leaves it alone when asked to."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "import deepgrad, deepgrad.kernels.allocator as a; print(a.applied)"


def _applied(**env) -> str:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "DEEPGRAD_MALLOC"))
    }
    out = subprocess.run(
        [sys.executable, "-c", CODE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the tuning is glibc-only")
def test_tuning_applies_by_default_and_respects_opt_outs():
    assert _applied() == "True"
    assert _applied(DEEPGRAD_MALLOC_TUNING="0") == "False"
    assert _applied(MALLOC_TRIM_THRESHOLD_="1000000") == "False"  # the user's own choice wins
