#!/usr/bin/env bash
# Task `unpaired` (CAE / MAE: 5 min of clean speech of 10 speakers, unpaired with the noisy
# recordings of the other 43) against `little_clean` (the same 5 min of clean speech, mixed with
# the corpus's noise clips: paired by mixing), `noisy_target` (no clean speech) and the oracle
# `supervised` (all 3.9 h of clean speech); same 2000 steps of 16 × 3 s, corpus v2, on the v2
# test split and its real-speech subset; file by file, 95% intervals
# (experiments/compare_runs.py --reports).
#
#   split: python recipes/unpaired/make_split.py --corpus corpus_v2 --minutes 5 --speakers 10 --out corpus_v2/unpaired
#   runs:  runs/v2cmp/v2_{supervised,noisy_target}   (metrics/corpus_v2/README.md)
#          runs/unpaired_v2/*                         (the training commands: recipes/unpaired/README.md)
#   bash experiments/unpaired_compare.sh             # writes metrics/unpaired/*.md
set -euo pipefail
OUT=${OUT:-metrics/unpaired}
mkdir -p "$OUT"
declare -A SETS=([v2_test]=corpus_v2/test [v2_test_real]=corpus_v2/test_real)
RUNS=(${RUNS:-runs/unpaired_v2/unpaired runs/unpaired_v2/little_clean runs/v2cmp/v2_noisy_target
      runs/v2cmp/v2_supervised})

source "$(dirname "$0")/score.sh"
score() {  # score RUN SET: enhance SET's noisy files with RUN's model and evaluate them
  score_model "$1/model.pt" "${SETS[$2]}" "$1/eval_$2"
}

for set in v2_test v2_test_real; do
  reports=()
  for run in "${RUNS[@]}"; do
    score "$run" $set
    reports+=("$run/eval_$set/report")
  done
  python experiments/compare_runs.py --out "$OUT" --reports-name "${NAME:-unpaired}_$set.md" \
    --reports "${reports[@]}" > /dev/null
done
