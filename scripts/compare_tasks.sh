#!/usr/bin/env bash
# Train, enhance and evaluate recipes one after another on the corpus test split.
#   scripts/compare_tasks.sh recipes/mixit/conf.yaml \
#     "recipes/separation/conf.yaml --set trainer.init_from=sepssl/pretrained/default.pt --set trainer.out_dir=runs/sep_pre"
# Each argument is a recipe plus optional `--set` overrides (quoted together). Each run writes
# OUT/{model.pt,test_enhanced,test_report}; a re-run resumes training from the last checkpoint.
# Separation runs (task separation, or mixit with mode separate) are scored with
# recipes/separation/score.py on corpus/two_talker/test into OUT/separation.json instead.
set -euo pipefail
cd "$(dirname "$0")/.."
SEPSSL=${SEPSSL:-.venv/bin/sepssl}
PY=${PY:-.venv/bin/python}
for run in "$@"; do
  read -r -a words <<< "$run"
  read -r out kind < <($PY - "${words[@]}" <<'PY'
import sys
from sepssl.config import load_config
conf, rest = sys.argv[1], sys.argv[2:]
cfg = load_config(conf, [v for k, v in zip(rest[::2], rest[1::2]) if k == "--set"])
t = cfg.task
print(cfg.trainer.out_dir, "sep" if t["name"] == "separation" or t.get("mode") == "separate" else "enh")
PY
)
  echo "== $run -> $out ($(date +%H:%M:%S))"
  $SEPSSL train "${words[@]}" -q
  if [ "$kind" = sep ]; then
    $PY recipes/separation/score.py "$out/model.pt" corpus/two_talker/test --out "$out/separation.json"
  else
    rm -rf "$out/test_enhanced"
    $SEPSSL enhance corpus/test/noisy -o "$out/test_enhanced" --model "$out/model.pt" -q
    $SEPSSL evaluate --ref corpus/test/clean --est "$out/test_enhanced" --noisy corpus/test/noisy \
      --report "$out/test_report" --jobs 2 -q | tail -12
  fi
  echo "== done $out ($(date +%H:%M:%S))"
done
