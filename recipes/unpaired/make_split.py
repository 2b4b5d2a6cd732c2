"""Split the corpus's train speakers for task `unpaired`: a few minutes of CLEAN speech from some
speakers, and the NOISY recordings of all the others (never the same voices, never pairs).

    python recipes/unpaired/make_split.py --corpus corpus --minutes 5 --speakers 10 --out corpus/unpaired

Speakers are shuffled (fixed seed); the first `--speakers` give the clean speech, drawn at random
from their clean files until `--minutes` are reached (`clean_<minutes>min.txt`); every noisy
file of the other speakers goes to `noisy_others.txt`. Both lists (one path a line, relative to
the list's folder) are what `data.train_clean` and `data.train_speech` read; it prints their
sizes.
"""
from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

import numpy as np


def write_list(path: Path, header: str, files: list[Path]) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(f"# {header}\n" + "".join(f"{os.path.relpath(f, path.parent)}\n" for f in files))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--speakers", type=int, default=10, help="speakers of the clean speech")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="folder for the two lists")
    args = ap.parse_args(argv)
    corpus, out = Path(args.corpus), Path(args.out)
    with open(corpus / "manifests" / "train.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    speakers = sorted({r["speaker"] for r in rows if r["kind"] == "clean"})
    if len(speakers) <= args.speakers:
        raise SystemExit(f"error: {corpus} has {len(speakers)} train speakers; "
                         f"--speakers {args.speakers} leaves none for the noisy recordings")
    rng = np.random.default_rng(args.seed)
    clean_voices = {speakers[i] for i in rng.permutation(len(speakers))[: args.speakers]}
    pool = [r for r in rows if r["kind"] == "clean" and r["speaker"] in clean_voices]
    chosen, total = [], 0.0
    for i in rng.permutation(len(pool)):
        if total >= 60 * args.minutes:
            break
        chosen.append(pool[i])
        total += float(pool[i]["seconds"])
    noisy = [r for r in rows if r["kind"] == "noisy" and r["speaker"] not in clean_voices]
    out.mkdir(parents=True, exist_ok=True)
    clean_list = out / f"clean_{args.minutes:g}min.txt"
    noisy_list = out / "noisy_others.txt"
    write_list(clean_list, f"{total / 60:.2f} min of clean train speech of {args.speakers} speakers "
               f"(seed {args.seed}), none in {noisy_list.name}", [corpus / r["path"] for r in chosen])
    noisy_seconds = sum(float(r["seconds"]) for r in noisy)
    write_list(noisy_list, f"{noisy_seconds / 3600:.2f} h of noisy train speech of the other "
               f"{len(speakers) - args.speakers} speakers", [corpus / r["path"] for r in noisy])
    print(f"{clean_list}: {len(chosen)} files, {total:.1f} s, "
          f"{len({r['speaker'] for r in chosen})} speakers")
    print(f"{noisy_list}: {len(noisy)} files, {noisy_seconds / 3600:.2f} h, "
          f"{len(speakers) - args.speakers} speakers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
