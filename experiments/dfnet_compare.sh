#!/usr/bin/env bash
# The stronger masker (deep filter on the low 160 bins, order 3, lookahead 1; GRU 256 wide)
# against the shipped masker (GRU 192, real masks), same recipe, same 2000 steps, same corpus v2,
# on the v2 test split and its real-speech subset; file by file, 95% intervals
# (experiments/compare_runs.py --reports).
#
#   runs: runs/v2cmp/v2_{supervised,noisy_target}   (metrics/corpus_v2/README.md)
#         runs/dfnet/{supervised,noisy_target}_s1  (the training commands: metrics/dfnet/README.md)
#   bash experiments/dfnet_compare.sh              # writes metrics/dfnet/*.md
set -euo pipefail
OUT=${OUT:-metrics/dfnet}
mkdir -p "$OUT"
declare -A SETS=([v2_test]=corpus_v2/test [v2_test_real]=corpus_v2/test_real)

source "$(dirname "$0")/score.sh"
score() {  # score RUN SET: enhance SET's noisy files with RUN's model and evaluate them
  score_model "$1/model.pt" "${SETS[$2]}" "$1/eval_$2"
}

for set in v2_test v2_test_real; do
  for task in ${TASKS:-supervised noisy_target}; do
    score "runs/v2cmp/v2_$task" $set
    score "runs/dfnet/${task}_s1" $set
    python experiments/compare_runs.py --out "$OUT" --reports-name "${task}_$set.md" \
      --reports "runs/v2cmp/v2_$task/eval_$set/report" "runs/dfnet/${task}_s1/eval_$set/report" \
      > /dev/null
  done
done
