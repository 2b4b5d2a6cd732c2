"""The corpus's records: one CSV manifest per split, and corpus.json.

Why: the manifests are how training, evaluation and the metrics scripts find files and their
conditions (speaker, noise, SNR, room); corpus.json says what a build used and how it split it,
so a corpus can be checked and rebuilt. Both are written atomically: a build that stops halfway
never leaves a manifest that lists files that are not there.
"""
from __future__ import annotations

import csv
import json
import platform
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ...files import atomic_write, write_text
from .. import noise, realspeech, tts
from ..debian import Package
from ..noise import NoiseFile
from ..rooms import Rir
from .plan import (NOISE_SECONDS, REAL_NOISE_P, REVERB_FRACTION, SAMPLE_RATE, SECOND_LAYER_P,
                   SNR_RANGE, SPEECH_DBFS, SPEECH_SECONDS, SYNTHETIC_WEIGHTS, Plan)
from .splits import NOISE_FILE_SPLIT, REAL_SPEAKER_CHOICE, SPLITS, TEST_ONLY_NOISE, Speakers


@dataclass(frozen=True)
class Row:
    """One manifest line: a file and its conditions (strings as written to the CSV)."""
    id: str
    split: str
    kind: str             # clean | noisy | noise
    path: str             # relative to the corpus folder
    seconds: str          # "%.3f"
    speaker: str
    speech_source: str
    noise_name: str
    noise_source: str
    snr_db: str           # "%.2f", "" for noise clips
    reverberant: int      # 0 | 1

    @classmethod
    def of(cls, id: str, split: str, kind: str, path: str, samples: int, *, speaker: str = "",
           speech_source: str = "", noise_name: str = "", noise_source: str = "",
           snr_db: str = "", reverberant: int = 0) -> Row:
        """A row for a file of `samples` samples at the corpus rate."""
        return cls(id, split, kind, path, f"{samples / SAMPLE_RATE:.3f}", speaker,
                   speech_source, noise_name, noise_source, snr_db, reverberant)


MANIFEST_FIELDS = tuple(f.name for f in fields(Row))


def write_manifests(out: Path, rows: Sequence[Row]) -> list[Path]:
    """Write `manifests/<split>.csv` for every split, rows sorted by id then kind.

    Args:
        out: the corpus folder.
        rows: every file of the corpus.

    Returns:
        The manifest paths, in split order.
    """
    paths = []
    for s in SPLITS:
        sel = sorted((r for r in rows if r.split == s), key=lambda r: (r.id, r.kind))
        path = out / "manifests" / f"{s}.csv"
        with atomic_write(path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
            w.writeheader()
            w.writerows(asdict(r) for r in sel)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class BuildRecord:
    """What a build used and decided, for corpus.json.

    Attributes:
        size: the corpus size.
        seed: the corpus seed.
        plan: its plan.
        speech_packages: the real-speech packages used.
        noise_packages: the real-noise packages used.
        speakers: the TTS speakers and voice split.
        real_speakers: split -> descriptions of the real voices there
            (`SpeakerBank.describe()`).
        noise_pool: split -> package -> real noise files.
        rirs: split -> rooms.
        missing: the sources that could not be had (package, kind, reason).
    """
    size: str
    seed: int
    plan: Plan
    speech_packages: Sequence[Package]
    noise_packages: Sequence[Package]
    speakers: Speakers
    real_speakers: Mapping[str, Sequence[dict]]
    noise_pool: Mapping[str, Mapping[str, Sequence[NoiseFile]]]
    rirs: Mapping[str, Sequence[Rir]]
    missing: Sequence[dict] = ()


def summarise(record: BuildRecord, rows: Sequence[Row], build_seconds: float) -> dict:
    """The content of corpus.json.

    Args:
        record: what the build used and decided.
        rows: every file of the corpus, in build order.
        build_seconds: how long the build took.

    Returns:
        A JSON-ready dict: seed, size, format, sources, counts, hours, speakers, split rules,
        mixing settings and the folder layout.
    """
    return {
        "seed": record.seed, "size": record.size, "sample_rate": SAMPLE_RATE,
        "format": "wav PCM_16 mono", "build_seconds": round(build_seconds, 1),
        "python": platform.python_version(),
        "sources": _sources(record),
        "missing_sources": list(record.missing),
        **_real_tallies(record),
        **_tallies(rows),
        "speaker_settings": {s: [sp.describe() for sp in record.speakers.targets[s]]
                             for s in SPLITS},
        "babble_talkers": {s: [sp.describe() for sp in record.speakers.babblers[s]]
                           for s in SPLITS},
        "split_rules": _split_rules(record),
        "mixing": _mixing(rows, record.rirs),
        "layout": {
            "train": "train/noisy, train/clean (oracle only), train/noise (noise-only clips)",
            "valid": "valid/clean, valid/noisy paired by file name",
            "test": "test/clean, test/noisy paired by file name",
            "test_real": "test_real/clean, test_real/noisy: the test pairs with real speech "
                         "(hard links)",
            "manifests": "manifests/<split>.csv: " + ", ".join(MANIFEST_FIELDS),
        },
    }


def write_summary(out: Path, summary: dict) -> Path:
    """Write `corpus.json` (atomically).

    Args:
        out: the corpus folder.
        summary: from `summarise`.

    Returns:
        The file's path.
    """
    return write_text(out / "corpus.json", json.dumps(summary, indent=2) + "\n")


def _sources(record: BuildRecord) -> dict:
    return {
        "tts_engines": tts.engine_versions(record.plan.engines),
        "real_speech_packages": [{**p.describe(), "licence": realspeech.source(p.name).licence,
                                  "split": realspeech.source(p.name).split}
                                 for p in record.speech_packages],
        "real_noise_packages": [{**p.describe(), "licence": noise.source(p.name).licence}
                                for p in record.noise_packages],
        "synthetic_noise_kinds": list(SYNTHETIC_WEIGHTS),
        "rooms": "pyroomacoustics shoebox, image source method",
    }


def _real_tallies(record: BuildRecord) -> dict:
    """The real voices (all splits), their hours of speech, and the real-noise packages."""
    voices = [v for s in SPLITS for v in record.real_speakers[s]]
    used = {p for s in SPLITS for p in record.noise_pool[s]}
    return {
        "real_voices": [v["voice"] for v in voices],
        "real_speech_hours": round(sum(v["minutes"] for v in voices) / 60, 3),
        "noise_sources": [p.name for p in record.noise_packages if p.name in used],
        "real_voice_details": {s: list(record.real_speakers[s]) for s in SPLITS},
    }


def _tallies(rows: Sequence[Row]) -> dict:
    """Counts and hours per split and kind; speech sources and speakers of the noisy files."""
    counts = defaultdict(lambda: defaultdict(int))
    hours = defaultdict(lambda: defaultdict(float))
    speakers = defaultdict(set)
    kinds = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r.split][r.kind] += 1
        hours[r.split][r.kind] += float(r.seconds) / 3600
        if r.kind == "noisy":
            speakers[r.split].add(r.speaker)
            kinds[r.split][r.speech_source] += 1
    return {
        "counts": {s: dict(counts[s]) for s in SPLITS},
        "hours": {s: {k: round(v, 3) for k, v in hours[s].items()} for s in SPLITS},
        "speech_sources": {s: dict(kinds[s]) for s in SPLITS},
        "speakers": {s: sorted(speakers[s]) for s in SPLITS},
    }


def _split_rules(record: BuildRecord) -> dict:
    return {
        "real_speakers": {s: [v["voice"] for v in record.real_speakers[s]] for s in SPLITS},
        "real_speaker_choice": REAL_SPEAKER_CHOICE,
        "voices": record.speakers.voices.describe(),
        "noise_files": {s: {p: len(f) for p, f in record.noise_pool[s].items()} for s in SPLITS},
        "noise_file_split": NOISE_FILE_SPLIT, "test_only_noise_packages": list(TEST_ONLY_NOISE),
        "rooms_per_split": {s: len(record.rirs[s]) for s in SPLITS},
    }


def _mixing(rows: Sequence[Row], rirs: Mapping[str, Sequence[Rir]]) -> dict:
    snr = defaultdict(list)
    for r in rows:
        if r.kind == "noisy":
            snr[r.split].append(float(r.snr_db))
    return {
        "snr_db_range": list(SNR_RANGE),
        "snr_db_observed": {s: [min(v), max(v)] for s, v in snr.items() if v},
        "snr_definition": "10 log10 of (possibly reverberant) speech energy over noise "
                          "energy, whole clip",
        "speech_level_dbfs": list(SPEECH_DBFS), "peak_limit": 0.95,
        "reverb_fraction": REVERB_FRACTION, "rt60_range_s": [0.2, 0.8],
        "clean_reference": "dry speech, time-aligned with the direct path of the "
                           "reverberant image, direct-path gain 1",
        "real_noise_probability": REAL_NOISE_P, "synthetic_weights": SYNTHETIC_WEIGHTS,
        "second_layer_probability": SECOND_LAYER_P,
        "speech_seconds": list(SPEECH_SECONDS), "noise_seconds": list(NOISE_SECONDS),
        "rirs": {s: [r.describe() for r in rirs[s]] for s in SPLITS},
    }
