#!/usr/bin/env bash
# Train, enhance and evaluate the little-clean-data variants (recipes/little_clean/README.md).
#   bash recipes/little_clean/run.sh scratch cpc_frozen cpc_finetuned wav2vec2_frozen \
#       wav2vec2_finetuned byol_a_frozen
# Each variant is conf.yaml plus an encoder (pre-trained by `sepssl pretrain recipes/<enc>/conf.yaml`,
# so runs/<enc>/encoder.pt must exist, or name another file: WAV2VEC2=... CPC=... BYOL_A=...)
# and writes runs/little_clean/<variant>/ (OUT_PREFIX=... to write runs/little_clean/<prefix><variant>/).
set -euo pipefail
cd "$(dirname "$0")/../.."
CONF=recipes/little_clean/conf.yaml
for variant in "$@"; do
  sets="--set trainer.out_dir=runs/little_clean/${OUT_PREFIX:-}$variant"
  case "$variant" in
    scratch) ;;
    cpc_frozen|cpc_finetuned|wav2vec2_frozen|wav2vec2_finetuned)
      enc=${variant%_*}
      frozen=$([ "${variant#*_}" = frozen ] && echo true || echo false)
      file=$([ "$enc" = cpc ] && echo "${CPC:-runs/cpc/encoder.pt}" || echo "${WAV2VEC2:-runs/wav2vec2/encoder.pt}")
      sets="$sets --set model.encoder.checkpoint=$file"
      sets="$sets --set model.encoder.frozen=$frozen --set model.encoder.layers=weighted" ;;
    byol_a_frozen|byol_a_finetuned)
      frozen=$([ "$variant" = byol_a_frozen ] && echo true || echo false)
      sets="$sets --set model.encoder.checkpoint=${BYOL_A:-runs/byol_a/encoder.pt} --set model.encoder.frozen=$frozen" ;;
    *) echo "error: unknown variant $variant" >&2; exit 2 ;;
  esac
  scripts/compare_tasks.sh "$CONF $sets"
done
