"""The playground's "Export ONNX" button in the real page (Chromium, Playwright): after two
training steps, ONNX Runtime on the downloaded file gives the session's own predictions."""

from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

# the playground's browser fixtures (this module is skipped with them when Chromium is missing)
from test_playground_browser import browser, page, server, session_of  # noqa: E402, F401


def test_export_onnx_button_downloads_the_trained_network(page, server, tmp_path):  # noqa: F811
    _, app = server
    page.click("#step")
    page.click("#step")
    page.wait_for_function("state.frame && state.frame.epoch === 2")
    with page.expect_download() as dl:
        page.click("#export-onnx")
    assert dl.value.suggested_filename == "playground_model.onnx"
    path = tmp_path / "m.onnx"
    dl.value.save_as(path)
    session = session_of(page, app)
    points = np.random.default_rng(1).uniform(-6, 6, (50, 2)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"points": points})
    ref = session.predict(points)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
