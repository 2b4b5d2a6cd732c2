"""Folder enhancement speed on a device: the shipped model through `sepssl enhance`'s code path.

    python metrics/bench_enhance_device.py --device cuda --files corpus/test/noisy --out metrics/gpu

The files are read first; then each round enhances all of them with `enhance_signal` (the
path `sepssl enhance` takes: chunks of one file batched through the model, resampling, the
model's attenuation limit), synchronising the device at the end; medians over rounds, after a
warm-up round. Reported as times real time (seconds of audio per second). Start-up and file
I/O are left out: they are the same on any device and are measured in metrics/startup.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import command, machine, sync, where  # noqa: E402

from sepssl import audio, load_model  # noqa: E402
from sepssl.enhance import enhance_signal  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=Path, default=Path("corpus/test/noisy"))
    p.add_argument("--model", default="default")
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="4 files, 1 round (a check)")
    p.add_argument("--out", type=Path, default=HERE)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    started = machine(device=a.device)
    paths = sorted(audio.find_audio(a.files))[: 4 if a.quick else None]
    if not paths:
        raise SystemExit(f"bench_enhance_device: no audio files in {a.files}")
    rounds = 1 if a.quick else a.rounds
    clips = [audio.read(path) for path in paths]
    seconds = sum(w.shape[-1] / r for w, r in clips)
    model = load_model(a.model, device=a.device)
    times = []
    for i in range(rounds + 1):
        sync(a.device)
        t0 = time.perf_counter()
        for wav, rate in clips:
            enhance_signal(model, wav.to(a.device), rate)
        sync(a.device)
        if i:                                   # round 0 warms up (cuDNN plans, allocator)
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    meta = {"command": command(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            **started, "model": a.model, "files": len(clips), "seconds_of_audio": round(seconds, 1),
            "rounds": rounds, "device_name": (torch.cuda.get_device_name(a.device)
                                              if a.device.startswith("cuda") else "cpu")}
    result = {"meta": meta, "median_s": med, "all_s": times, "times_real_time": seconds / med}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "enhance_device.json").write_text(json.dumps(result, indent=2))
    md = (f"# Folder enhancement on {meta['device_name']}\n\nCommand: `{meta['command']}`  \n"
          f"Date: {meta['date']}  \nMachine: {where(meta)}, nproc {meta['nproc']}, torch "
          f"{meta['torch']}\n\n"
          f"Model `{a.model}`, `enhance_signal` per file; median of {rounds} rounds after a "
          f"warm-up.\n\n| files | seconds of audio | median seconds | × real time |\n"
          f"|---:|---:|---:|---:|\n| {len(clips)} | {seconds:.1f} | {med:.3f} | "
          f"{seconds / med:,.0f}× |\n")
    (a.out / "enhance_device.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
