"""Write a file list of a few minutes of clean training speech: the "little clean data" a user
might record or label themselves.

    python recipes/little_clean/make_subset.py --corpus corpus --minutes 5 --out corpus/train_clean_5min.txt

Files are drawn at random (fixed seed) from the corpus's clean train speech until their total
length reaches --minutes; the list (one path a line, relative to the list's folder) is what
`data.train_speech` reads. It prints how many files, seconds and speakers it took.
"""
from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    corpus, out = Path(args.corpus), Path(args.out)
    with open(corpus / "manifests" / "train.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "clean"]
    if not rows:
        raise SystemExit(f"error: {corpus}/manifests/train.csv lists no clean train files")
    order = np.random.default_rng(args.seed).permutation(len(rows))
    chosen, total = [], 0.0
    for i in order:
        if total >= 60 * args.minutes:
            break
        chosen.append(rows[i])
        total += float(rows[i]["seconds"])
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [os.path.relpath(corpus / r["path"], out.parent) for r in chosen]
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_text(f"# {total / 60:.2f} min of clean train speech, seed {args.seed}\n"
                   + "\n".join(lines) + "\n")
    os.replace(tmp, out)
    speakers = len({r["speaker"] for r in chosen})
    print(f"{out}: {len(chosen)} files, {total:.1f} s, {speakers} speakers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
