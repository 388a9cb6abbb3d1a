"""examples/onnx_in_the_browser in headless Chromium (Debian's), driven by Playwright: the page
runs a Fashion-MNIST model exported by ``deepgrad export`` with onnxruntime-web. Oracle: the
class deepgrad predicts for the exact 784 pixels the page fed to the model (and, for the
uploaded test image, that those pixels are the image's)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"needs Debian's chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
Image = pytest.importorskip("PIL.Image")

import deepgrad  # noqa: E402
from deepgrad import cli  # noqa: E402
from deepgrad.data import DatasetNotFoundError, FashionMNIST  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "examples" / "onnx_in_the_browser"
ORT_JS = PAGE / "node_modules" / "onnxruntime-web" / "dist" / "ort.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip

try:
    FashionMNIST(train=False, download=False)
except DatasetNotFoundError:
    pytest.skip("Fashion-MNIST not found", allow_module_level=True)


def _install_onnxruntime_web() -> None:
    """``npm ci`` in the example (make test does it too); skip only if there is no npm."""
    if ORT_JS.is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("onnxruntime-web is not installed and npm is missing (apt-get install npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PAGE, check=True, timeout=600)
    assert ORT_JS.is_file()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(run folder, model.onnx) of a small CNN trained on Fashion-MNIST and exported."""
    _install_onnxruntime_web()
    out = tmp_path_factory.mktemp("runs") / "fm"
    argv = ["train", "--model", "cnn", "--dataset", "fashion-mnist", "--limit", "200",
            "--epochs", "1", "--out", str(out), "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    assert cli.main(["export", str(out), "--format", "onnx"]) == 0
    return out, out / "model.onnx"


@pytest.fixture(scope="module")
def url(trained):
    spec = importlib.util.spec_from_file_location("serve", PAGE / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    server = serve.make_server(0, trained[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(url):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("body[data-ready]", timeout=60_000)
        assert page.get_attribute("body", "data-ready") == "1", page.inner_text("#status")
        yield page
        assert errors == []
        browser.close()


def deepgrad_scores(run_dir, pixels):
    """(class names, deepgrad's logits) of the run's model for 784 raw pixels."""
    from deepgrad.train.fit import predict
    from deepgrad.train.run import load_trained_model, normalize

    config, model = load_trained_model(run_dir)
    x = deepgrad.tensor(np.asarray(pixels, dtype=np.float32).reshape(1, 1, 28, 28))
    return config["classes"], predict(model, normalize(x, config["normalization"]))._data[0]


def deepgrad_class(run_dir, pixels) -> str:
    classes, scores = deepgrad_scores(run_dir, pixels)
    return classes[int(scores.argmax())]


def assert_page_agrees(page, run_dir):
    """The page's logits are deepgrad's (float32 in WebAssembly vs NumPy), and the class it
    shows is deepgrad's prediction."""
    seen = np.asarray(page.evaluate("window.lastInput"), dtype=np.float32)
    logits = np.asarray(page.evaluate("window.lastLogits"), dtype=np.float32)
    classes, scores = deepgrad_scores(run_dir, seen)
    np.testing.assert_allclose(logits, scores, rtol=1e-5, atol=1e-5 * np.abs(scores).max())
    assert page.inner_text("#prediction") == classes[int(scores.argmax())]
    return seen


def _wait_count(page, n):
    page.wait_for_selector(f'body[data-count="{n}"]', timeout=30_000)


def test_uploaded_test_image_gets_deepgrads_class(page, trained, tmp_path):
    x, _ = FashionMNIST(train=False).tensors()
    image = x._data[7, 0]
    png = tmp_path / "test7.png"
    Image.fromarray(np.round(image * 255).astype(np.uint8), mode="L").save(png)
    page.set_input_files("#upload", str(png))
    _wait_count(page, 1)
    seen = assert_page_agrees(page, trained[0])
    np.testing.assert_allclose(seen.reshape(28, 28), image, atol=0.5 / 255)  # the image's pixels
    assert page.inner_text("#prediction") == deepgrad_class(trained[0], image)


def test_drawn_stroke_gets_deepgrads_class(page, trained):
    page.click("#clear")
    box = page.locator("#draw").bounding_box()
    page.mouse.move(box["x"] + 90, box["y"] + 40)
    page.mouse.down()
    for t in np.linspace(0, 1, 12):  # a trouser-like pair of legs
        page.mouse.move(box["x"] + 90 - 30 * t, box["y"] + 40 + 200 * t)
    page.mouse.up()
    _wait_count(page, 2)
    seen = assert_page_agrees(page, trained[0])
    assert seen.max() > 0.5 and (seen > 0.1).sum() > 20  # the stroke reached the model
