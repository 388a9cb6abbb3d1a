#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, CuPy and PyTorch with CUDA (about 6 minutes):
# the GPU tests (tests/cuda/test_cuda.py, marked `cuda`), then the GPU benchmark against PyTorch CUDA.
# Writes OUTDIR/gpu-check.log and OUTDIR/RESULTS-gpu.md (OUTDIR defaults to benchmarks/).
#   benchmarks/gpu_check.sh [OUTDIR]
# TEST_TIMEOUT and BENCH_TIMEOUT (seconds) bound the two parts; BENCH_ROUNDS sets the rounds.
set -uo pipefail
cd "$(dirname "$0")/.."
OUTDIR=${1:-benchmarks}
mkdir -p "$OUTDIR"
PY=${PYTHON:-python3}
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 DEEPGRAD_SMOKE=1
{
    echo "== $(date -u) on $(hostname)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    $PY -c "import cupy, numpy, torch; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'torch', torch.__version__, 'torch.cuda', torch.cuda.is_available())"
    echo "== GPU tests"
    # SIGINT on timeout: pytest still prints its summary of what ran
    timeout -s INT "${TEST_TIMEOUT:-240}" $PY -m pytest -q -m cuda -p no:cacheprovider \
        --tb=short -o addopts="" -rfE tests/cuda/test_cuda.py
    echo "tests exit status: $?"
    echo "== GPU benchmark"
    timeout -s INT "${BENCH_TIMEOUT:-150}" $PY benchmarks/gpu_bench.py --profile \
        --rounds "${BENCH_ROUNDS:-3}" --out "$OUTDIR/RESULTS-gpu.md"
    echo "benchmark exit status: $?"
} 2>&1 | tee "$OUTDIR/gpu-check.log"
