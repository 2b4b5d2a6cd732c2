#!/usr/bin/env bash
# Here, on the CPU machine, before a GPU run: the carried wheels (Python 3.12, manylinux) and the
# packed training audio, under gpu_kit_cache/ (git-ignored), within the 64 MiB carry budget.
#   bash scripts/gpu_kit/prepare.sh [CORPUS]        CODEC=opus KBPS=32 MIB=44 to change the pack
# Then, on the device: run(command="bash scripts/gpu_kit/run.sh", carry=["gpu_kit_cache"])
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
corpus=${1:-corpus}
cache=gpu_kit_cache
mkdir -p "$cache/wheels"
grep -v '^#' scripts/gpu_kit/wheels.txt | awk 'NF {print $1}' > "$cache/requirements.txt"
"$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --abi cp312 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$cache/wheels" -r "$cache/requirements.txt"
rm -rf "$cache/data"
"$py" scripts/gpu_kit/pack_data.py --corpus "$corpus" --out "$cache/data" \
    --mib "${MIB:-44}" --codec "${CODEC:-flac}" --kbps "${KBPS:-32}" > /dev/null
du -sh "$cache/wheels" "$cache/data"
total=$(du -sb "$cache" | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
echo "gpu_kit_cache $((total / 1048576)) MiB + working tree $((tree / 1048576)) MiB" \
     "(the carry budget: 64 MiB in all)"
[ $((total + tree)) -lt $((62 * 1048576)) ] || { echo "too large for the carry" >&2; exit 1; }
