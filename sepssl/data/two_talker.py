"""Two-talker mixtures from a corpus's clean speech, for the separation recipes.

Training mixtures are written without their sources (`train/mix/`), so a model trained on them
with MixIT never sees a single-talker source. Valid and test sets keep the sources as one
channel each (`noisy/` = mixture, `clean/` = 2-channel sources) for PIT SI-SDR scoring and model
selection. Talkers of a pair are different speakers (from the corpus manifests); the second
talker is at a level drawn from −5…5 dB against the first; mixtures are cut to the shorter
utterance and peak-limited.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import audio
from ..errors import DataError
from ..files import write_text

SPLITS = {"train": None, "valid": 100, "test": 200}   # None: one mixture per utterance


def _utterances(corpus: Path, split: str) -> list[tuple[Path, str]]:
    manifest = corpus / "manifests" / f"{split}.csv"
    if not manifest.is_file():
        raise DataError(f"{manifest}: missing; build the corpus first (sepssl data)")
    with open(manifest, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "clean"]
    if len({r["speaker"] for r in rows}) < 2:
        raise DataError(f"{manifest}: two-talker mixtures need at least two speakers")
    return [(corpus / r["path"], r["speaker"]) for r in rows]


def build_two_talker(corpus, out, seed: int = 0, rate: int = 16000, progress: bool = True,
                     level_db: tuple[float, float] = (-5.0, 5.0)) -> dict:
    """Write two-talker mixtures of a corpus's clean speech (`sepssl data --two-talker-from`).

    Args:
        corpus (str or os.PathLike): A corpus built by `sepssl data` (with `manifests/`).
        out (str or os.PathLike): Output folder: `train/mix/`, `{valid,test}/noisy/` and
            `{valid,test}/clean/` (2-channel sources), plus `two_talker.json`.
        seed (int, optional): Random seed. (Default: ``0``)
        rate (int, optional): Sample rate of the output, in Hz. (Default: ``16000``)
        progress (bool, optional): Show progress bars. (Default: ``True``)
        level_db (tuple[float, float], optional): Range of the second talker's level against
            the first, in dB. (Default: ``(-5.0, 5.0)``)

    Returns:
        dict: The summary written to `two_talker.json` (source, seed, levels, counts).

    Raises:
        DataError: If a split's manifest is missing or has fewer than two speakers.
    """
    corpus, out = Path(corpus), Path(out)
    rng = np.random.default_rng(seed)
    counts = {}
    for split, count in SPLITS.items():
        utts = _utterances(corpus, split)
        n = count or len(utts)
        firsts = rng.permutation(len(utts))[:n] if n <= len(utts) else rng.integers(0, len(utts), n)
        for i, a in enumerate(tqdm(firsts, desc=f"two-talker {split}", disable=not progress)):
            b = a
            while utts[b][1] == utts[a][1]:
                b = int(rng.integers(0, len(utts)))
            s1, _ = audio.read(utts[a][0], rate, check=False)
            s2, _ = audio.read(utts[b][0], rate, check=False)
            length = min(s1.shape[-1], s2.shape[-1])
            s1, s2 = s1.mean(0)[:length].numpy(), s2.mean(0)[:length].numpy()
            level = rng.uniform(*level_db)
            s2 = s2 * np.sqrt((s1 ** 2).mean() / ((s2 ** 2).mean() + 1e-12) * 10 ** (level / 10))
            peak = max(np.abs(s1 + s2).max(), np.abs(s1).max(), np.abs(s2).max()) / 0.9
            s1, s2 = s1 / max(peak, 1.0), s2 / max(peak, 1.0)
            name = f"{split}-{i:06d}.wav"
            if split == "train":
                audio.write(out / "train" / "mix" / name, s1 + s2, rate)
            else:
                audio.write(out / split / "noisy" / name, s1 + s2, rate)
                audio.write(out / split / "clean" / name, np.stack([s1, s2]), rate)
        counts[split] = n
    summary = {"from": str(corpus), "seed": seed, "level_db": list(level_db), "counts": counts}
    write_text(out / "two_talker.json", json.dumps(summary, indent=2))
    return summary
