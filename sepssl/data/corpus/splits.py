"""The split rules: which voices, real speakers and noise files go to train, valid and test.

Why a module of its own: these rules are what makes the test split a fair test (no speaker, no
noise recording and no held-out noise package seen in training), so they are pure functions
over lists of ids and durations, seeded, and testable without TTS engines or downloads.

- espeak-ng accents and variants are partitioned between splits (seeded); flite/festival
  voices go by recorded person: slt and rms -> train, awb -> valid, kal -> test.
- Real voices go with their package (`realspeech.SOURCES`): every voice of a package is in
  the package's split, so splits share no voice and no speech package.
- Babble talkers are extra virtual speakers from their split's own base voices, with ids of
  their own, so never a target speaker anywhere.
- Real noise files are split per package by duration (train 70 %, valid 10 %, test 20 %),
  whole files only; `TEST_ONLY_NOISE` packages are held out entirely for test.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ...errors import DataError
from .. import realspeech, tts
from ..noise import NoiseFile
from .seeds import derive_rng

T = TypeVar("T")

SPLITS = ("train", "valid", "test")
REAL_SPEAKER_CHOICE = ("by package: every voice of a speech package in that package's split "
                       "(train: long wideband sets; valid: narrowband prompts and short calls; "
                       "test: many unseen voices and languages)")
PERSON_SPLIT = {"slt": "train", "rms": "train", "awb": "valid", "kal": "test"}
ACCENTS_PER_SPLIT = {"train": 5, "valid": 1, "test": 2}
VARIANT_FRACTION = {"train": 0.6, "valid": 0.15, "test": 0.25}
NOISE_FILE_SPLIT = {"train": 0.7, "valid": 0.1, "test": 0.2}
#: Whole packages heard only in test: arcade effects and music, real drum kits, animal calls
#: and folk instruments, kinds no training package has.
TEST_ONLY_NOISE = ("frozen-bubble-data", "hydrogen-drumkits", "qabcs-data")


@dataclass(frozen=True)
class VoiceSplit:
    """The base voices of each split.

    Attributes:
        accents: split -> espeak-ng accents.
        variants: split -> espeak-ng variants.
        persons: split -> recorded persons behind the flite/festival voices.
    """
    accents: dict[str, list[str]]
    variants: dict[str, list[str]]
    persons: dict[str, list[str]]

    def describe(self) -> dict:
        """The split as plain data, for corpus.json."""
        return {"espeak_accents": self.accents, "espeak_variants": self.variants,
                "persons": self.persons}


@dataclass(frozen=True)
class Speakers:
    """The virtual TTS speakers of each split.

    Attributes:
        voices: the base voices each split may use.
        targets: split -> speakers whose speech is the clean signal.
        babblers: split -> speakers heard only inside babble noise.
    """
    voices: VoiceSplit
    targets: dict[str, list[tts.Speaker]]
    babblers: dict[str, list[tts.Speaker]]


def partition_voices(rng: np.random.Generator, accents: Sequence[str],
                     variants: Sequence[str]) -> VoiceSplit:
    """Share espeak-ng accents and variants out between the splits, and the TTS persons.

    Args:
        rng: draws the two shuffles (accents first, then variants).
        accents: espeak-ng accents (`tts.ESPEAK_ACCENTS`); at least
            `sum(ACCENTS_PER_SPLIT.values())`.
        variants: installed espeak-ng variants (`tts.espeak_variants()`); enough that every
            split gets one at `VARIANT_FRACTION` (4 or more).

    Returns:
        Disjoint accents and variants per split (test takes every variant left over), and
        the persons of `PERSON_SPLIT`.

    Raises:
        DataError: too few accents or variants for every split to have its own.
    """
    need = sum(ACCENTS_PER_SPLIT.values())
    if len(accents) < need:
        raise DataError(f"{len(accents)} espeak-ng accents, too few for speaker-disjoint "
                        f"splits: need {need} ({_per_split(ACCENTS_PER_SPLIT)})")
    accents = [accents[i] for i in rng.permutation(len(accents))]
    variants = [variants[i] for i in rng.permutation(len(variants))]
    by_accent: dict[str, list[str]] = {}
    by_variant: dict[str, list[str]] = {}
    a0 = v0 = 0
    for s in SPLITS:
        na = ACCENTS_PER_SPLIT[s]
        nv = int(round(VARIANT_FRACTION[s] * len(variants))) if s != "test" \
            else len(variants) - v0
        by_accent[s] = accents[a0:a0 + na]
        by_variant[s] = variants[v0:v0 + nv]
        a0 += na
        v0 += nv
    empty = [s for s in SPLITS if not by_variant[s]]
    if empty:
        raise DataError(f"espeak-ng lists {len(variants)} usable voice variants, too few for "
                        f"speaker-disjoint splits ({', '.join(empty)} would get none; need 4 "
                        f"or more): reinstall the package espeak-ng-data")
    persons = {s: sorted(p for p, sp in PERSON_SPLIT.items() if sp == s) for s in SPLITS}
    return VoiceSplit(by_accent, by_variant, persons)


def assign_speakers(seed: int, accents: Sequence[str], variants: Sequence[str],
                    targets: Mapping[str, Mapping[str, int]],
                    babble_talkers: Mapping[str, int],
                    engines: Sequence[str]) -> Speakers:
    """Target speakers and babble talkers per split, from base voices no two splits share.

    Args:
        seed: the corpus seed.
        accents: espeak-ng accents (see `partition_voices`).
        variants: espeak-ng variants (see `partition_voices`).
        targets: split -> engine -> number of target speakers.
        babble_talkers: split -> number of babble talkers.
        engines: the TTS engines in use; others' counts in `targets` are ignored.

    Returns:
        The speakers; ids are unique and name their split, engine and base voice. A split
        with more speakers than base voices reuses base voices with other prosody.

    Raises:
        DataError: too few base voices, or a split left without target speakers.
    """
    rng = derive_rng(seed, "voices")
    voices = partition_voices(rng, accents, variants)
    target_lists, babble_lists = {}, {}
    for s in SPLITS:
        combos = [(a, v) for a in voices.accents[s] for v in voices.variants[s]]
        combos = [combos[i] for i in rng.permutation(len(combos))]
        bases = {"espeak-ng": [("espeak-ng", a, v) for a, v in combos]}
        for eng in ("flite", "festival"):
            vs = [v for (e, v), p in tts.PERSON.items() if e == eng and p in voices.persons[s]]
            bases[eng] = [(eng, v, "") for v in sorted(vs)]
        spk_list = []
        for eng, n in sorted(targets[s].items()):
            if eng not in engines or not bases.get(eng):
                continue
            for k in range(n):
                e, v, var = bases[eng][k % len(bases[eng])]
                sid = f"{s}-{e}-{v}{'+' + var if var else ''}-{k:02d}"
                spk_list.append(tts.random_speaker(rng, sid, e, v, var))
        if not spk_list:
            raise DataError(f"no target speakers for the {s} split: engines "
                            f"{', '.join(engines)} have no base voice there")
        target_lists[s] = spk_list
        # Babble: espeak combos not used by targets, and flite voices with other prosody.
        n_espeak = targets[s].get("espeak-ng", 0)
        spare = bases["espeak-ng"][n_espeak:] or bases["espeak-ng"]
        fl = bases.get("flite", []) if "flite" in engines else []
        talkers = []
        for k in range(babble_talkers[s]):
            e, v, var = fl[k % len(fl)] if fl and k % 4 == 3 else spare[k % len(spare)]
            sid = f"{s}-babble-{e}-{v}{'+' + var if var else ''}-{k:02d}"
            talkers.append(tts.random_speaker(rng, sid, e, v, var))
        babble_lists[s] = talkers
    return Speakers(voices, target_lists, babble_lists)


def split_real_speakers(voices: Mapping[str, str]) -> dict[str, list[str]]:
    """Real voices per split, each with its package (`realspeech.SOURCES`).

    Args:
        voices: voice id -> its package, in build order.

    Returns:
        split -> the voices that go there, in the given order.

    Raises:
        DataError: a package the split rules do not know.
    """
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for voice, package in voices.items():
        out[realspeech.source(package).split].append(voice)
    return out


def split_by_duration(items: Sequence[T], seconds: Sequence[float], rng: np.random.Generator,
                      fractions: Mapping[str, float]) -> dict[str, list[T]]:
    """Assign whole items to splits so each split gets about its fraction of the duration.

    Items are shuffled; when there are at least as many items as splits, each split first
    takes one, then the split furthest below its share takes the next item.

    Args:
        items: what to split (noise files, ids).
        seconds: the duration of each item.
        rng: draws the shuffle.
        fractions: split -> share of the total duration.

    Returns:
        split -> its items (every item in exactly one split).
    """
    if len(items) != len(seconds):
        raise ValueError(f"{len(items)} items but {len(seconds)} durations")
    order = [int(i) for i in rng.permutation(len(items))]
    names = list(fractions)
    out: dict[str, list[T]] = {s: [] for s in names}
    have = {s: 0.0 for s in names}
    total = sum(seconds) or 1.0
    if len(order) >= len(names):
        for s in names:
            i = order.pop(0)
            out[s].append(items[i])
            have[s] += seconds[i]
    for i in order:
        need = {s: fractions[s] - have[s] / total for s in names}
        s = max(names, key=lambda s: need[s])
        out[s].append(items[i])
        have[s] += seconds[i]
    return out


def split_noise(files: Mapping[str, Sequence[NoiseFile]],
                seed: int) -> dict[str, dict[str, list[NoiseFile]]]:
    """Real noise files per split and package, no file in two splits.

    Args:
        files: package -> its noise files, in build order (packages without files are skipped).
        seed: the corpus seed (each package's split has its own generator).

    Returns:
        split -> package -> files; `TEST_ONLY_NOISE` packages appear in test only, and a
        package is left out of a split that got none of its files.
    """
    pool: dict[str, dict[str, list[NoiseFile]]] = {s: {} for s in SPLITS}
    for name, pkg_files in files.items():
        if not pkg_files:
            continue
        if name in TEST_ONLY_NOISE:
            pool["test"][name] = list(pkg_files)
            continue
        parts = split_by_duration(pkg_files, [f.seconds for f in pkg_files],
                                  derive_rng(seed, "noise-split", name), NOISE_FILE_SPLIT)
        for s in SPLITS:
            if parts[s]:
                pool[s][name] = parts[s]
    return pool


def _per_split(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items())
