#!/usr/bin/env bash
# What corpus v2 alone changes: the oracle (supervised) and the shipped recipe (noisy_target),
# same model, same steps, trained once on corpus v1 and once on v2, scored on the v2 test
# split, its real-speech-only subset, and the v1 test split; file by file, 95% intervals.
#
#   corpus v1: `sepssl data --size full` at commit 8f83f9d, moved to corpus_v1/
#   corpus v2: `sepssl data --size full --out corpus_v2` (this commit)
#   runs:      runs/v2cmp/{v1,v2}_{supervised,noisy_target} (the commands are in
#              metrics/corpus_v2.md)
#
#   bash experiments/corpus_v2_compare.sh      # writes metrics/corpus_v2/*.md
set -euo pipefail
RUNS=${RUNS:-runs/v2cmp}
OUT=${OUT:-metrics/corpus_v2}
declare -A SETS=([v2_test]=corpus_v2/test [v2_test_real]=corpus_v2/test_real [v1_test]=corpus_v1/test)
mkdir -p "$OUT"
for set in "${!SETS[@]}"; do
  dir=${SETS[$set]}
  for run in v1_supervised v2_supervised v1_noisy_target v2_noisy_target; do
    est=$RUNS/$run/eval_$set
    if [ ! -f "$est/report/summary.json" ]; then
      sepssl enhance "$dir/noisy" -o "$est/enhanced" --model "$RUNS/$run/model.pt" --overwrite --threads 1 -q
      sepssl evaluate --ref "$dir/clean" --est "$est/enhanced" --noisy "$dir/noisy" \
        --report "$est/report" --jobs 1 -q
    fi
  done
  for task in supervised noisy_target; do
    python experiments/compare_runs.py --out "$OUT" --reports-name "${task}_${set}.md" \
      --reports "$RUNS/v1_$task/eval_$set/report" "$RUNS/v2_$task/eval_$set/report"
  done
done
