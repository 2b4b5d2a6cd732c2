#!/usr/bin/env bash
# The main job end to end on a small demo set: build noisy / clean test pairs offline, enhance
# the noisy files with the shipped default model, score input and output, print the table.
# Writes everything under demo/ (the report: demo/report/report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
S=.venv/bin/sepssl
rm -rf demo/enhanced demo/report
[ -f demo/corpus/corpus.json ] || $S data --size small --out demo/corpus
$S enhance demo/corpus/test/noisy -o demo/enhanced
$S evaluate --ref demo/corpus/test/clean --est demo/enhanced --noisy demo/corpus/test/noisy \
  --report demo/report
echo "open demo/report/report.html for the plots and per-file scores"
