#!/usr/bin/env bash
# Train, enhance and evaluate recipes one after another on the corpus test split.
#   scripts/compare_tasks.sh recipes/mixit/conf.yaml recipes/remixit/conf.yaml ...
# Each run writes runs/<out_dir>/{model.pt,test_enhanced,test_report}; a re-run resumes training
# from the last checkpoint. Separation recipes (task separation, mixit mode separate) are scored
# with recipes/separation/score.py on corpus/two_talker/test instead.
set -euo pipefail
cd "$(dirname "$0")/.."
SEPSSL=${SEPSSL:-.venv/bin/sepssl}
PY=${PY:-.venv/bin/python}
for conf in "$@"; do
  out=$($PY -c "from sepssl.config import load_config; print(load_config('$conf').trainer.out_dir)")
  kind=$($PY -c "from sepssl.config import load_config; t=load_config('$conf').task; print('sep' if t['name']=='separation' or t.get('mode')=='separate' else 'enh')")
  echo "== $conf -> $out ($(date +%H:%M:%S))"
  $SEPSSL train "$conf" -q ${EXTRA_SET:-}
  if [ "$kind" = sep ]; then
    $PY recipes/separation/score.py "$out/model.pt" corpus/two_talker/test --out "$out/separation.json"
  else
    rm -rf "$out/test_enhanced"
    $SEPSSL enhance corpus/test/noisy -o "$out/test_enhanced" --model "$out/model.pt" -q
    $SEPSSL evaluate --ref corpus/test/clean --est "$out/test_enhanced" --noisy corpus/test/noisy \
      --report "$out/test_report" --jobs 2 -q | tail -12
  fi
done
