#!/usr/bin/env bash
# What corpus v2 alone changes, and what the recording chain adds.
#
# 1. The oracle (supervised) and the shipped recipe (noisy_target), same model, same 2000
#    steps, trained once on corpus v1 and once on v2, scored on the v2 test split, its
#    real-speech-only subset (test_real) and the v1 test split.
# 2. noisy_target on v2 with `task.recording_chain` (its defaults) against the same without,
#    on test, test_real and two shifted domains of the v2 test split (telephone channel,
#    reverberant rooms; experiments/adapt_domains.py, the score halves).
# 3. The chain's rooms and codecs (reverb_p 0.2, codec_p 0.2) on top of its defaults, against
#    the chain's defaults alone, on the sets of 2 and two more shifted domains (voice_call:
#    through Opus / G.722; rooms: speech in rooms from small rooms to halls).
# File by file, 95% intervals (experiments/compare_runs.py --reports).
#
#   corpus v1: `sepssl data --size full` at commit 8f83f9d, moved to corpus_v1/
#   corpus v2: `sepssl data --size full --out corpus_v2`
#   domains:   python experiments/adapt_domains.py --corpus corpus_v2 --out runs/v2_domains
#   runs:      runs/v2cmp/{v1,v2}_{supervised,noisy_target}, runs/v2cmp/v2_noisy_target_chain,
#              runs/v2cmp/v2_noisy_target_chain_rooms_codecs
#              (the training commands are in metrics/corpus_v2/README.md)
#
#   bash experiments/corpus_v2_compare.sh      # writes metrics/corpus_v2/*.md
set -euo pipefail
RUNS=${RUNS:-runs/v2cmp}
OUT=${OUT:-metrics/corpus_v2}
mkdir -p "$OUT"

declare -A SETS=([v2_test]=corpus_v2/test [v2_test_real]=corpus_v2/test_real
                 [v1_test]=corpus_v1/test [v2_telephone]=runs/v2_domains/telephone/score
                 [v2_reverberant]=runs/v2_domains/reverberant/score
                 [v2_voice_call]=runs/v2_domains/voice_call/score
                 [v2_rooms]=runs/v2_domains/rooms/score)

source "$(dirname "$0")/score.sh"
score() {  # score RUN SET: enhance SET's noisy files with RUN's model and evaluate them
  [ -f "$RUNS/$1/model.pt" ] || return 0
  score_model "$RUNS/$1/model.pt" "${SETS[$2]}" "$RUNS/$1/eval_$2"
}

compare() {  # compare NAME BASELINE RUN SET (when both were scored)
  [ -f "$RUNS/$2/eval_$4/report/summary.json" ] || return 0
  [ -f "$RUNS/$3/eval_$4/report/summary.json" ] || return 0
  python experiments/compare_runs.py --out "$OUT" --reports-name "$1_$4.md" \
    --reports "$RUNS/$2/eval_$4/report" "$RUNS/$3/eval_$4/report" > /dev/null
}

for set in v2_test v2_test_real v1_test; do
  for task in supervised noisy_target; do
    score "v1_$task" $set
    score "v2_$task" $set
    compare "$task" "v1_$task" "v2_$task" $set
  done
done
for set in v2_test v2_test_real v2_telephone v2_reverberant; do
  score v2_noisy_target $set
  score v2_noisy_target_chain $set
  compare chain v2_noisy_target v2_noisy_target_chain $set
done
for set in v2_test v2_test_real v2_telephone v2_reverberant v2_voice_call v2_rooms; do
  score v2_noisy_target_chain $set
  score v2_noisy_target_chain_rooms_codecs $set
  compare chain_rooms_codecs v2_noisy_target_chain v2_noisy_target_chain_rooms_codecs $set
done
