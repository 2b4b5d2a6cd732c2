#!/usr/bin/env bash
# On a machine with a CUDA GPU: every GPU test (`pytest -m gpu`), then the hot-core benchmarks on the GPU
# (exact MixIT, STFT, a training step of the default recipe), written to metrics/gpu/
# (or the folder given as the first argument). The CPU tables stay in metrics/.
#   bash metrics/run_gpu.sh [OUTDIR]          PYTHON=python3 to use another interpreter
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
out=${1:-metrics/gpu}
"$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')"
"$py" -m pytest -q -m gpu tests/
for script in bench_mixit bench_stft bench_mixing; do
    echo "== metrics/$script.py --device cuda --out $out"
    "$py" "metrics/$script.py" --device cuda --out "$out"
done
