#!/usr/bin/env bash
# The whole GPU session in one run, on the device machine (prepared here by prepare.sh):
#   run(command="bash scripts/gpu_kit/run.sh", carry=["gpu_kit_cache"], timeout_s=560)
# 1. the carried wheels for what the machine lacks; 2. the machine's facts; 3. the GPU tests;
# 4. the GPU benchmarks (training throughput, exact MixIT, STFT, mixing share, folder
# enhancement); 5. the budgeted training (recipes/gpu_budget, MINUTES of it, default 5) at the
# batch that trained fastest in 4. Every step has its own time limit and a failing step does not
# stop the next. What comes back ($OUT, at most 8 files): results.tar.gz (every table, JSON and
# log), model.pt (the budget-trained model), and summary.txt (each step's exit code).
#   KIT_QUICK=1 bash scripts/gpu_kit/run.sh     # on the CPU: every step at tiny sizes (a check)
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

step() {  # step NAME SECONDS COMMAND...: run it with a time limit, log it, record its exit code
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS
    echo "== $name: $*" | tee -a "$res/run.log"
    timeout "$limit" "$@" >> "$res/$name.log" 2>&1
    local rc=$?
    echo "$name rc=$rc ${SECONDS}s total ($((SECONDS - t0)) s)" | tee -a "$summary"
    tail -n 3 "$res/$name.log"
    return 0
}

site=${TMPDIR:-/tmp}/sepssl_site
step install 120 "$py" scripts/gpu_kit/install_missing.py gpu_kit_cache/wheels "$site"
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
step facts 30 bash -c "nvidia-smi; $py -c 'import torch, sys; print(sys.version); \
print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))'"

if [ "$quick" = 1 ]; then
    step tests 300 "$py" -m pytest -q -x tests/test_deep_filter_and_full_band.py
    q=--quick
else
    step tests 150 "$py" -m pytest -q -m gpu -p no:cacheprovider --continue-on-collection-errors tests/
    q=
fi
step throughput 150 "$py" metrics/bench_train_throughput.py --device $device $q --out "$res"
step mixit 90 "$py" metrics/bench_mixit.py --device $device $q --out "$res"
step stft 60 "$py" metrics/bench_stft.py --device $device $q --out "$res"
step mixing 60 "$py" metrics/bench_mixing.py --device $device $q --out "$res"
step enhance 90 "$py" metrics/bench_enhance_device.py --device $device $q \
    --files gpu_kit_cache/data/valid/noisy --out "$res"

batch=$("$py" -c "import json; print(json.load(open('$res/train_throughput.json'))['best']['batch'])" \
        2>/dev/null || echo 256)
[ "$quick" = 1 ] && batch=2
minutes=${MINUTES:-5}
train_sets=(--set "trainer.out_dir=$res/gpu_budget" --set "data.batch_size=$batch"
            --set "trainer.max_minutes=$minutes")
if [ "$quick" = 1 ]; then
    train_sets+=(--set trainer.max_steps=2 --set trainer.val_every_steps=1 --set data.valid_files=2
                 --set data.segment_seconds=0.5 --set trainer.precision=32-true
                 --set optim.warmup_steps=0)
fi
step train $((minutes * 60 + 120)) "$py" -m sepssl.cli train gpu_budget "${train_sets[@]}"
[ -f "$res/gpu_budget/model.pt" ] && cp "$res/gpu_budget/model.pt" "$out/model.pt"
rm -rf "$res/gpu_budget/checkpoints"
tar -czf "$out/results.tar.gz" -C "$(dirname "$res")" results
cat "$summary"
