"""Held-out pretext scores of pre-trained encoders: each encoder's own objective (loss,
accuracy, collapse statistics) on audio it never saw, in float32, eval mode (no dropout; the
wav2vec 2.0 quantiser picks its codewords by argmax), the same crops and the same random
masks / distractors for every encoder.

Why: training logs mix precisions (bf16 on a GPU, float32 on the CPU), batch sizes and
training-time noise; this puts runs made on different hardware on one footing.

    python experiments/pretext_eval.py runs/wav2vec2/encoder.pt runs/wav2vec2_h200_b64/encoder.pt \
        [--audio corpus/valid/noisy] [--batches 20] [--batch-size 8] [--seconds 4] --out metrics
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from pathlib import Path

import torch

# benchlib (the command line and machine a results file records) lives with the benchmarks
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "metrics"))
from benchlib import command, machine  # noqa: E402
from sepssl.encoders import load_encoder  # noqa: E402
from sepssl.data.datasets import RawClips  # noqa: E402


def fixed_batches(audio: str, rate: int, seconds: float, batches: int, size: int, seed: int):
    torch.manual_seed(seed)
    clips = RawClips({"speech": audio}, rate, seconds)
    order = torch.randperm(len(clips))
    return [torch.stack([clips[int(order[(b * size + i) % len(clips)])]["speech"]
                         for i in range(size)]) for b in range(batches)]


@torch.no_grad()
def score(path: str, enc, batches: list[torch.Tensor], seed: int) -> dict:
    enc.eval()
    if not enc.has_pretext:
        raise SystemExit(f"{path}: saved without its pretext head; nothing to score")
    torch.manual_seed(seed)
    sums: dict[str, float] = {}
    for wav in batches:
        loss, stats = enc.pretext_loss(wav)
        for key, value in {"loss": loss, **stats}.items():
            sums[key] = sums.get(key, 0.0) + float(value)
    return {key: total / len(batches) for key, total in sums.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("encoders", nargs="+", help="encoder files (sepssl pretrain's encoder.pt)")
    p.add_argument("--audio", default="corpus/valid/noisy", help="held-out folder or file list")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="write pretext_eval.{json,md} here")
    a = p.parse_args()
    encoders = {e: load_encoder(e) for e in a.encoders}
    rates = {enc.sample_rate for enc in encoders.values()}
    if len(rates) != 1:
        raise SystemExit(f"encoders want different sample rates {sorted(rates)}; score them apart")
    batches = fixed_batches(a.audio, rates.pop(), a.seconds, a.batches, a.batch_size, a.seed)
    rows = {e: score(e, enc, batches, a.seed) for e, enc in encoders.items()}
    keys = sorted({k for r in rows.values() for k in r},
                  key=lambda k: (k not in ("loss", "contrastive", "accuracy"), k))
    table = ["| encoder | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for e, r in rows.items():
        table.append(f"| `{e}` | " + " | ".join(f"{r[k]:.3g}" if k in r and math.isfinite(r[k])
                                                  else "" for k in keys) + " |")
    meta = {"command": command(), "date": datetime.date.today().isoformat(), **machine(),
            "audio": a.audio, "batches": a.batches, "batch_size": a.batch_size,
            "seconds": a.seconds, "seed": a.seed}
    md = (f"# Held-out pretext scores\n\n`{meta['command']}` — {meta['date']}, {meta['cpu']}, "
          f"torch {meta['torch']}\n\n{a.batches} batches of {a.batch_size} × {a.seconds:g} s "
          f"crops of `{a.audio}` (never seen in pre-training), float32, eval mode, seed "
          f"{a.seed}: the same crops, masks and distractors for every encoder. Chance for "
          f"wav2vec 2.0's contrastive loss with 100 distractors: ln 101 = 4.62.\n\n"
          + "\n".join(table) + "\n")
    print(md)
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "pretext_eval.json").write_text(json.dumps({"meta": meta, "scores": rows},
                                                            indent=2) + "\n")
        (a.out / "pretext_eval.md").write_text(md)


if __name__ == "__main__":
    main()
