# Sourced by the comparison scripts: `score_model MODEL DIR EST [ENHANCE OPTIONS...]` enhances
# DIR/noisy with MODEL into EST/enhanced and evaluates it against DIR/clean into EST/report
# (skipped when EST/report/summary.json exists: a rerun only scores what is new).
score_model() {
  local model=$1 dir=$2 est=$3
  shift 3
  if [ ! -f "$est/report/summary.json" ]; then
    sepssl enhance "$dir/noisy" -o "$est/enhanced" --model "$model" --overwrite --threads 1 -q "$@"
    sepssl evaluate --ref "$dir/clean" --est "$est/enhanced" --noisy "$dir/noisy" \
      --report "$est/report" --jobs 1 -q > /dev/null
  fi
}
