"""What the GPU kit's lossy packing does to the training audio: every file of the given folders
through Ogg Opus at `--kbps` (the kit's own encoder, `scripts/gpu_kit/pack_data.py`) and back,
written as 16-bit WAV under `--out` with the same relative paths; then train on the copy and
compare with the same run on the originals (scripts/gpu_kit/README.md has the runs).

    python experiments/opus_roundtrip.py corpus_v2/train/clean corpus_v2/train/noise --root corpus_v2 --out runs/opus32 --kbps 32

Prints the files, seconds and the encoded size per second of audio.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
from pathlib import Path

import soundfile as sf

from sepssl.audio import write


def kit_encoder():
    path = Path(__file__).resolve().parent.parent / "scripts" / "gpu_kit" / "pack_data.py"
    spec = importlib.util.spec_from_file_location("pack_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.encoded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--root", required=True, help="paths under --out are relative to this")
    ap.add_argument("--out", required=True)
    ap.add_argument("--kbps", type=int, default=32)
    args = ap.parse_args()
    encoded = kit_encoder()
    files = seconds = size = 0
    for folder in args.folders:
        for path in sorted(Path(folder).rglob("*.wav")):
            data, length = encoded(path, "opus", args.kbps)
            audio, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
            write(Path(args.out) / path.relative_to(args.root), audio.T, rate)
            files, seconds, size = files + 1, seconds + length, size + len(data)
    print(f"{files} files, {seconds / 3600:.2f} h, {8 * size / seconds / 1000:.1f} kbit/s encoded")


if __name__ == "__main__":
    main()
