"""Pack a seeded subset of the corpus into a byte budget, for the GPU machine (64 MiB carry).

    python scripts/gpu_kit/pack_data.py --corpus corpus --out gpu_kit_cache/data --mib 44

Writes the corpus layout (`train/<speech>`, `train/noise`, `valid/{clean,noisy}`) as FLAC
(lossless: a 16 kHz corpus clip packs to about half its WAV size, so 44 MiB hold about 45
minutes) or Ogg Opus at `--kbps` (lossy, about 4× more audio in the budget; at 32 kbps it cost
a 600-step supervised run 0.16 dB SI-SDR, scripts/gpu_kit/README.md, so FLAC is the default). Files are drawn in a seeded random order and added
while the budget allows, `--speech-share` of it for the training speech, `--valid-files`
validation pairs first, the rest for noise. `pack.json` lists what was packed.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf


def encoded(path: Path, codec: str, kbps: int) -> tuple[bytes, float]:
    """The file's audio as FLAC or Ogg Opus bytes, and its length in seconds."""
    data, rate = sf.read(path, dtype="int16" if codec == "flac" else "float32")
    buf = io.BytesIO()
    if codec == "flac":
        sf.write(buf, data, rate, format="FLAC", subtype="PCM_16")
    else:
        sf.write(buf, data, rate, format="OGG", subtype="OPUS",
                 compression_level=1.0 - min(max((kbps - 6) / 250, 0.0), 1.0))
    return buf.getvalue(), len(data) / rate


def pack(files: list[Path], out: Path, budget: int, codec: str, kbps: int) -> tuple[int, float]:
    """Write `files` in order until the next would pass `budget` bytes; returns (bytes,
    seconds) written."""
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".flac" if codec == "flac" else ".opus"
    used, seconds = 0, 0.0
    for path in files:
        blob, length = encoded(path, codec, kbps)
        if used + len(blob) > budget:
            break
        (out / (path.stem + suffix)).write_bytes(blob)
        used += len(blob)
        seconds += length
    return used, seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--out", type=Path, default=Path("gpu_kit_cache/data"))
    p.add_argument("--mib", type=float, default=44.0, help="byte budget of the whole pack, MiB")
    p.add_argument("--speech", default="clean", choices=("clean", "noisy"),
                   help="training speech: clean (supervised) or noisy (noisy_target, remixit)")
    p.add_argument("--speech-share", type=float, default=0.72)
    p.add_argument("--valid-files", type=int, default=30)
    p.add_argument("--codec", default="flac", choices=("flac", "opus"))
    p.add_argument("--kbps", type=int, default=32, help="Opus bit rate (approximate)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    budget = int(a.mib * 2 ** 20)

    def shuffled(folder: Path) -> list[Path]:
        files = sorted(folder.glob("*.wav"))
        if not files:
            sys.exit(f"pack_data: no .wav files in {folder} (build the corpus: sepssl data)")
        return [files[i] for i in rng.permutation(len(files))]

    used = {}
    valid = shuffled(a.corpus / "valid" / "noisy")[: a.valid_files]
    for kind in ("noisy", "clean"):   # pairs: the same names in both folders
        used[f"valid/{kind}"] = pack([a.corpus / "valid" / kind / f.name for f in valid],
                                     a.out / "valid" / kind, budget, a.codec, a.kbps)
    left = budget - sum(b for b, _ in used.values())
    speech_budget = int(left * a.speech_share)
    used[f"train/{a.speech}"] = pack(shuffled(a.corpus / "train" / a.speech),
                                     a.out / "train" / a.speech, speech_budget, a.codec, a.kbps)
    left = budget - sum(b for b, _ in used.values())
    used["train/noise"] = pack(shuffled(a.corpus / "train" / "noise"), a.out / "train" / "noise",
                               left, a.codec, a.kbps)
    summary = {"corpus": str(a.corpus), "codec": a.codec, "kbps": a.kbps if a.codec == "opus" else None,
               "seed": a.seed, "budget_mib": a.mib,
               "parts": {k: {"mib": round(b / 2 ** 20, 2), "minutes": round(s / 60, 1),
                             "files": len(list((a.out / k).iterdir())),
                             "kbps_measured": round(b * 8 / max(s, 1e-9) / 1000, 1)}
                         for k, (b, s) in used.items()}}
    summary["total_mib"] = round(sum(v["mib"] for v in summary["parts"].values()), 2)
    (a.out / "pack.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
