#!/usr/bin/env bash
# The whole GPU session in one run, on the device machine (prepared here by prepare.sh):
#   run(command="bash scripts/gpu_kit/run.sh", carry=["gpu_kit_cache"], timeout_s=600)
# In order of what a short slot must not lose: 1. the carried wheels for what the machine
# lacks; 2. the machine's facts; 3. training throughput (batch × precision), then the fastest
# setting with the network compiled; 4. the budgeted training (recipes/gpu_budget, MINUTES of
# it, default 4) at the batch, precision and compile mode that trained fastest in 3, with as
# many cosine-decayed steps as the budget holds (budget_settings.py); 5. the GPU tests; 6. the
# other benchmarks (exact MixIT against asteroid, folder enhancement, STFT, mixing share).
# Every step has its own time limit, cut to what is left of KIT_SECONDS (default 560) so the
# results are always packed before the call's limit; a failing step does not stop the next.
# What comes back ($OUT, at most 8 files): results.tar.gz (every table, JSON and log), model.pt
# (the budget-trained model), and summary.txt (each step's exit code and time).
#   KIT_QUICK=1 bash scripts/gpu_kit/run.sh     # on the CPU: every step at tiny sizes (a check)
#   KIT_STEPS=install,train MINUTES=8 bash scripts/gpu_kit/run.sh
#       # a second call, the training alone: 8 minutes at the recipe's batch (256, bf16), 1500
#       # cosine steps (the first call's measured settings are not kept between calls)
set -uo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-python3}
out=${OUT:-runs/gpu_kit_out}
res=$(mktemp -d)/results
mkdir -p "$out" "$res"
quick=${KIT_QUICK:-0}
device=cuda
[ "$quick" = 1 ] && device=cpu
summary="$out/summary.txt"
: > "$summary"
limit=${KIT_SECONDS:-560}
[ "$quick" = 1 ] && limit=${KIT_SECONDS:-1800}
deadline=$((SECONDS + limit - 20))    # 20 s kept for packing the results

only=${KIT_STEPS:-}    # e.g. KIT_STEPS=install,throughput,compiled,train: only these steps

step() {  # step NAME SECONDS COMMAND...: run it with a time limit, log it, record its exit code
    local name=$1 limit=$2; shift 2
    if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then
        return 0
    fi
    local t0=$SECONDS left=$((deadline - SECONDS))
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -lt 5 ]; then
        echo "$name skipped: no time left" | tee -a "$summary"
        return 0
    fi
    echo "== $name (limit $limit s): $*" | tee -a "$res/run.log"
    timeout "$limit" "$@" >> "$res/$name.log" 2>&1
    local rc=$?
    echo "$name rc=$rc ${SECONDS}s total ($((SECONDS - t0)) s)" | tee -a "$summary"
    tail -n 3 "$res/$name.log"
    return 0
}

site=${TMPDIR:-/tmp}/sepssl_site
step install 60 "$py" scripts/gpu_kit/install_missing.py gpu_kit_cache/wheels "$site"
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
step facts 30 bash -c "nvidia-smi; $py -c 'import torch, sys; print(sys.version); \
print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))'"

q=
[ "$quick" = 1 ] && q=--quick
step throughput 120 "$py" metrics/bench_train_throughput.py --device $device $q --out "$res"
best=$("$py" -c "import json; b = json.load(open('$res/train_throughput.json'))['best']; \
print(b['batch'], b['precision'])" 2>/dev/null || echo "256 bf16")
step compiled 100 "$py" metrics/bench_train_throughput.py --device $device $q \
    --batches "${best% *}" --precisions "${best#* }" --compile reduce-overhead --out "$res/compiled"

# the budget, cut to what is left before the deadline (90 s kept for start-up, loading the
# set into GPU memory, compiling and export); no training when under half a minute is left
minutes=$(MINUTES=${MINUTES:-4} LEFT=$((deadline - SECONDS)) "$py" -c \
    "import os; print(round(min(float(os.environ['MINUTES']), (int(os.environ['LEFT']) - 90) / 60), 2))")
mapfile -t budget < <("$py" scripts/gpu_kit/budget_settings.py "$res" "$minutes")
train_sets=(--set "trainer.out_dir=$res/gpu_budget" --set "trainer.max_minutes=$minutes")
for kv in "${budget[@]}"; do train_sets+=(--set "$kv"); done
if [ "$quick" = 1 ]; then
    train_sets+=(--set trainer.max_steps=2 --set trainer.val_every_steps=1 --set data.valid_files=2
                 --set data.segment_seconds=0.5 --set trainer.precision=32-true
                 --set optim.warmup_steps=0 --set data.batch_size=2 --set trainer.compile=off)
fi
if "$py" -c "import sys; sys.exit(float('$minutes') < 0.5)"; then
    step train "$("$py" -c "print(int(float('$minutes') * 60) + 90)")" \
        "$py" -m sepssl.cli train gpu_budget "${train_sets[@]}"
else
    echo "train skipped: $minutes min left" | tee -a "$summary"
fi
[ -f "$res/gpu_budget/model.pt" ] && cp "$res/gpu_budget/model.pt" "$out/model.pt"
rm -rf "$res/gpu_budget/checkpoints"

if [ "$quick" = 1 ]; then
    step tests 300 "$py" -m pytest -q -x tests/test_deep_filter_and_full_band.py
else
    step tests 90 "$py" -m pytest -q -m gpu -p no:cacheprovider --continue-on-collection-errors tests/
fi
step mixit 60 "$py" metrics/bench_mixit.py --device $device $q --out "$res"
step enhance 60 "$py" metrics/bench_enhance_device.py --device $device $q \
    --files gpu_kit_cache/data/valid/noisy --out "$res"
step stft 40 "$py" metrics/bench_stft.py --device $device $q --out "$res"
step mixing 40 "$py" metrics/bench_mixing.py --device $device $q --out "$res"

tar -czf "$out/results.tar.gz" -C "$(dirname "$res")" results
cat "$summary"
