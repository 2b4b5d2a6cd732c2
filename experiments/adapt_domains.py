"""The domain-shift protocol of `sepssl adapt` (metrics/adapt.md), built from the corpus test
split so that no number is tuned on its own test.

Each target domain is a part of `corpus/test` the shipped model never trained on (or a channel
applied to it), split by file into recordings to adapt on (`adapt/noisy`, noisy only) and a
disjoint part with clean references (`score/noisy`, `score/clean`):

- `unseen_voice`: the test split's real speech, whose voices and packages training never has
  (corpus v1: the Asterisk ru prompts; v2: 18 voices of three packages);
- `unseen_noise`: files whose noise comes from a test-only package (v1: frozen-bubble-data;
  v2: also hydrogen-drumkits and qabcs-data);
- `reverberant`: the reverberant rooms;
- `telephone`: every test file through a telephone channel (8 kHz, 300–3400 Hz band), noisy and
  clean alike.

    python experiments/adapt_domains.py --corpus corpus --out runs/adapt_domains

(needs the full corpus: `sepssl data --size full --out corpus`). Files are split by a seeded
shuffle, half and half; the score part is never adapted on.
"""
from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import torch
import torchaudio.functional as AF

from sepssl import audio
from sepssl.data import realspeech
from sepssl.data.corpus.splits import TEST_ONLY_NOISE

DOMAINS = {
    # Real test speech: its packages are never in training (v1 had one, the Asterisk ru voice,
    # written "asterisk-ru"; v2 has 18 voices of three packages).
    "unseen_voice": lambda r: (r["speech_source"] == "asterisk-ru"
                               or r["speech_source"] in realspeech.PACKAGES),
    # Noise from a test-only package (v1: frozen-bubble-data; v2 adds two more).
    "unseen_noise": lambda r: any(p in r["noise_source"] for p in TEST_ONLY_NOISE),
    "reverberant": lambda r: r["reverberant"] == "1",
    "telephone": lambda r: True,
}


def telephone(wav: torch.Tensor, rate: int) -> torch.Tensor:
    """`(channels, time)` through an 8 kHz, 300–3400 Hz channel, back at `rate`."""
    narrow = audio.resample(wav, rate, 8000)
    narrow = AF.lowpass_biquad(AF.highpass_biquad(narrow, 8000, 300.0), 8000, 3400.0)
    return audio.resample(narrow, 8000, rate)[..., : wav.shape[-1]]


def build(corpus: Path, out: Path, seed: int = 0) -> dict[str, dict[str, int]]:
    rows = [r for r in csv.DictReader(open(corpus / "manifests" / "test.csv")) if r["kind"] == "noisy"]
    counts = {}
    for domain, keep in DOMAINS.items():
        chosen = sorted((r for r in rows if keep(r)), key=lambda r: r["id"])
        random.Random(f"{seed}-{domain}").shuffle(chosen)
        half = len(chosen) // 2
        parts = {"adapt": chosen[:half], "score": chosen[half:]}
        for part, items in parts.items():
            for r in items:
                name = Path(r["path"]).name
                kinds = ("noisy",) if part == "adapt" else ("noisy", "clean")
                for kind in kinds:
                    wav, rate = audio.read(corpus / "test" / kind / name)
                    if domain == "telephone":
                        wav = telephone(wav, rate)
                    audio.write(out / domain / part / kind / name, wav, rate)
        counts[domain] = {part: len(items) for part, items in parts.items()}
    return counts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--out", type=Path, default=Path("runs/adapt_domains"))
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    for domain, count in build(a.corpus, a.out, a.seed).items():
        print(f"{domain}: {count['adapt']} files to adapt on, {count['score']} to score")


if __name__ == "__main__":
    main()
