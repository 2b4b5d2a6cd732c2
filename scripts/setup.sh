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
  echo "setup: installing sepssl and its dependencies into .venv (a few minutes)"
  .venv/bin/python -m pip install -q --upgrade "pip>=23" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q -c requirements/tested.txt -e ".[test]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import sepssl, torch, torchaudio, asteroid, lightning, pesq, pystoi" \
    || { echo "setup: the Python install failed (see above)" >&2; exit 1; }
  touch .venv/.sepssl-installed
fi
bash scripts/install_system_deps.sh
echo "setup: ready (.venv/bin/sepssl)"
