#!/usr/bin/env bash
# Runs side by side on corpus v2: each RUN's model.pt enhances the v2 test split and its
# real-speech subset (test_real), is scored (skipped where a report exists), and
# experiments/compare_runs.py --reports writes each run's gain over the input and every run
# against the FIRST one, file by file, with 95% intervals, to OUT/NAME_v2_{test,test_real}.md.
#
#   OUT=metrics/unpaired NAME=unpaired bash experiments/v2_compare.sh runs/unpaired_v2/unpaired \
#       runs/unpaired_v2/little_clean runs/v2cmp/v2_noisy_target runs/v2cmp/v2_supervised
#
# ENHANCE_ARGS: options for every `sepssl enhance` (e.g. "--atten-lim-db 20"; a report already
# there is not made again, so give each setting its own runs).
#
# Where the runs come from: the recipe README that cites the command.
set -euo pipefail
: "${OUT:?set OUT (the folder of the tables)}" "${NAME:?set NAME (the prefix of the table files)}"
[ $# -ge 2 ] || { echo "usage: OUT=... NAME=... $0 BASELINE_RUN RUN..." >&2; exit 2; }
mkdir -p "$OUT"
declare -A SETS=([v2_test]=corpus_v2/test [v2_test_real]=corpus_v2/test_real)
source "$(dirname "$0")/score.sh"

for set in v2_test v2_test_real; do
  reports=()
  for run in "$@"; do
    # shellcheck disable=SC2086  # ENHANCE_ARGS is a list of options
    score_model "$run/model.pt" "${SETS[$set]}" "$run/eval_$set" ${ENHANCE_ARGS:-}
    reports+=("$run/eval_$set/report")
  done
  python experiments/compare_runs.py --out "$OUT" --reports-name "${NAME}_$set.md" \
    --reports "${reports[@]}" > /dev/null
done
