#!/usr/bin/env bash
# Set up sepssl from a fresh checkout: a virtual environment in .venv with the toolkit and its
# test tools, plus the system packages the corpus builder uses (text-to-speech engines).
# Idempotent: a second run only checks. Needs python3 (>= 3.10) with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import sepssl, torch, torchaudio, asteroid, lightning, pesq, pystoi, pytest" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.sepssl-installed ]; then
  # torch's wheels from PyPI bring the CUDA libraries: .venv takes about 6.5 GB. Say so before pip
  # fills the disk half-way through an install.
  free_gb=$(df -Pk . | awk 'NR==2 {print int($4 / 1048576)}')
  if [ "${free_gb:-0}" -lt "${SEPSSL_SETUP_MIN_GB:-8}" ]; then
    echo "setup: only ${free_gb} GB free on $(df -P . | awk 'NR==2 {print $6}'); .venv needs about" \
         "8 GB (torch with its CUDA libraries): free some space and run it again" >&2
    exit 1
  fi
  echo "setup: installing sepssl and its dependencies into .venv (a few minutes)"
  .venv/bin/python -m pip install -q --upgrade "pip>=23" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q -c requirements/tested.txt -e ".[test]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import sepssl, torch, torchaudio, asteroid, lightning, pesq, pystoi" \
    || { echo "setup: the Python install failed (see above)" >&2; exit 1; }
  touch .venv/.sepssl-installed
fi
bash scripts/install_system_deps.sh
echo "setup: ready (.venv/bin/sepssl)"
