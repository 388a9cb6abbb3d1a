# One-command set-up: `make test` and `make demo` create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Two stamps: `make demo` installs only what the demo needs (.[app], no PyTorch); `make test`
# adds the test extra (PyTorch 2.13 as the oracle, pytest, ...).
APP_STAMP := $(VENV)/.installed-app
STAMP := $(VENV)/.installed

.PHONY: test demo system-packages bench bench-distributed accuracy parity lint format data clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[app]'
	touch $(APP_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP) $(APP_STAMP)

# onnxruntime-web for the ONNX browser example's test (tests/onnx/test_onnx_browser.py), from npm;
# without npm that test is skipped.
ORT_WEB := examples/onnx_in_the_browser/node_modules/onnxruntime-web/package.json
$(ORT_WEB): examples/onnx_in_the_browser/package-lock.json
	@if command -v npm >/dev/null; then \
		cd examples/onnx_in_the_browser && npm ci --no-audit --no-fund --loglevel=error && \
		touch node_modules/onnxruntime-web/package.json; \
	else echo "npm not found: the ONNX browser example's test will be skipped"; fi

# System packages, when we are root with apt: Fashion-MNIST (`data`, for the demo and the
# benchmarks), and for the tests also Chromium (the playground's browser tests) and Graphviz
# (graph drawings). Without root the library downloads Fashion-MNIST on first use (with MD5
# checks) and the browser and Graphviz tests are skipped.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
define apt_get
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		need=""; for pair in $(1); do \
			pkg=$${pair%%:*}; have=$${pair#*:}; \
			if [ "$${have#/}" != "$$have" ]; then [ -e "$$have" ] || need="$$need $$pkg"; \
			else command -v "$$have" >/dev/null || need="$$need $$pkg"; fi; \
		done; \
		if [ -n "$$need" ]; then \
			($(APT_INSTALL) $$need || (apt-get update -qq && $(APT_INSTALL) $$need)) >/dev/null \
				|| echo "warning: apt-get could not install$$need: what needs them cannot run"; \
		fi; \
	fi
endef

data:
	$(call apt_get,dataset-fashion-mnist:/usr/share/datasets/fashion-mnist)

system-packages:
	$(call apt_get,dataset-fashion-mnist:/usr/share/datasets/fashion-mnist chromium:chromium graphviz:dot)

# Two pytest workers on two cores: each keeps its BLAS to one thread, or OpenBLAS threads
# fight over the cores and the suite runs several times slower.
test: $(STAMP) $(ORT_WEB) system-packages
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 -q

demo: $(APP_STAMP) data
	$(VENV)/bin/deepgrad train --model mlp --dataset fashion-mnist --epochs 3 --out runs/demo

bench: $(STAMP) data
	$(PY) benchmarks/run.py
	@# the GPU benchmark (benchmarks/RESULTS-gpu.md) when deepgrad sees a GPU (CuPy installed)
	@if $(PY) -c "import deepgrad, sys; sys.exit(not deepgrad.cuda.is_available())"; then \
		$(PY) benchmarks/gpu_bench.py --profile; fi

# Data-parallel training on 1 and 2 MPI ranks (one thread each): W1 and W3 throughput, scaling
# efficiency and the share of all-reduce time hidden behind backward; appends to RESULTS.md.
bench-distributed: $(STAMP) data
	$(PY) benchmarks/distributed.py

# The largest differences from PyTorch: ops, layers, losses, training trajectories.
parity: $(STAMP) data
	$(PY) benchmarks/parity.py

# The accuracy goals of the course's models, trained by `deepgrad train` (about 6 minutes).
accuracy: $(STAMP) data
	$(PY) benchmarks/accuracy.py

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples

format: $(STAMP)
	$(PY) -m ruff format src tests benchmarks examples

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
