"""Split a folder of noisy recordings with a teacher: `speech/` = the teacher's estimate ŝ,
`noise/` = y − ŝ, same names — the training set of task `teacher_remix` over a whole corpus
(what `sepssl adapt` builds in a temporary folder for a user's recordings).

    python recipes/distill/teacher_split.py --teacher dfn3 --noisy corpus/train/noisy \
        --out runs/distill/dfn3_split

Files already written are skipped, so an interrupted pass resumes.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from tqdm import tqdm

from sepssl import audio
from sepssl.teachers import check_teacher, load_teacher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True, help="dfn3, rnnoise, default or a model file")
    parser.add_argument("--noisy", type=Path, required=True, help="folder of noisy recordings")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    check_teacher(args.teacher)
    teacher = load_teacher(args.teacher)
    files = sorted(p for p in args.noisy.iterdir() if p.suffix in (".wav", ".flac"))
    t0, seconds = time.time(), 0.0
    for src in tqdm(files, desc=f"teacher {args.teacher}", dynamic_ncols=True):
        name = src.with_suffix(".wav").name
        if (args.out / "noise" / name).is_file():
            continue
        wav, rate = audio.read(src)
        noisy = wav.mean(0)
        speech = teacher.enhance(noisy, rate)
        audio.write(args.out / "speech" / name, speech, rate, subtype="FLOAT")
        audio.write(args.out / "noise" / name, noisy - speech, rate, subtype="FLOAT")
        seconds += noisy.shape[-1] / rate
    took = time.time() - t0
    print(f"{seconds / 3600:.2f} h of audio in {took / 60:.1f} min "
          f"({seconds / max(took, 1e-9):.1f}x real time, {teacher.describe()})")


if __name__ == "__main__":
    main()
