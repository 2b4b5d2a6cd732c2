#!/usr/bin/env bash
# Regenerate every benchmark table in metrics/ (each script writes metrics/<name>.json and .md).
# Run from anywhere; uses the project's virtualenv. Extra arguments go to every script,
# e.g. `bash metrics/run_all.sh --quick --out /tmp/bench` for a seconds-long smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
for script in metrics/bench_*.py; do
    echo "== $script $*"
    .venv/bin/python "$script" "$@"
done
