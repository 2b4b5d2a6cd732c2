#!/usr/bin/env bash
# Candidates for the shipped models, retrained on corpus v2, against the shipped default (v1,
# as shipped: 12 dB limit), file by file with 95% intervals (experiments/compare_runs.py
# --reports), on: the v2 test split, its real-speech subset, and two shifted domains of it
# (telephone channel, reverberant rooms: experiments/adapt_domains.py, the score halves).
#
#   runs:  runs/v2default/{supervised,noisy_target}_stage2  (commands: metrics/default_v2/README.md)
#   LIMITS="supervised_stage2=12 noisy_target_stage2=12"   the limit each candidate ships with
#   bash experiments/default_v2_compare.sh                   # writes metrics/default_v2/*.md
set -euo pipefail
OUT=${OUT:-metrics/default_v2}
RUNS=${RUNS:-runs/v2default}
mkdir -p "$OUT" "$RUNS/shipped_v1"
declare -A SETS=([test]=corpus_v2/test [test_real]=corpus_v2/test_real
                 [telephone]=runs/v2_domains/telephone/score
                 [reverberant]=runs/v2_domains/reverberant/score)
declare -A LIMIT=()
for pair in ${LIMITS:-}; do LIMIT[${pair%%=*}]=${pair#*=}; done

source "$(dirname "$0")/score.sh"
score() {  # score NAME MODEL LIMIT SET: enhance SET's noisy files with MODEL, evaluate them
  score_model "$2" "${SETS[$4]}" "$RUNS/$1/eval_$4" --atten-lim-db "$3"
}

for set in test test_real telephone reverberant; do
  score shipped_v1 default 12 $set
  reports=("$RUNS/shipped_v1/eval_$set/report")
  for run in ${CANDIDATES:-supervised_stage2 noisy_target_stage2}; do
    [ -f "$RUNS/$run/model.pt" ] || continue
    score "$run" "$RUNS/$run/model.pt" "${LIMIT[$run]:-off}" $set
    reports+=("$RUNS/$run/eval_$set/report")
  done
  python experiments/compare_runs.py --out "$OUT" --reports-name "$set.md" \
    --reports "${reports[@]}" > /dev/null
done
