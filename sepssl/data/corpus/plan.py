"""What a corpus build renders: the sizes, and every file as a seeded job.

Why: planning draws every random choice that decides *what* a file is (its speaker, length,
SNR, room, noise layers) and gives each file its own seed for *how* it sounds, before anything
is rendered. Rendering a job then depends on that job alone, so files come out the same in any
order and with any number of worker processes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ...errors import DataError
from ..noise import NoiseFile
from ..tts import Speaker
from .seeds import derive_rng, derive_seed
from .splits import SPLITS

SAMPLE_RATE = 16000
SNR_RANGE = (-5.0, 20.0)
REVERB_FRACTION = 0.3
SPEECH_SECONDS = (2.0, 6.0)
NOISE_SECONDS = (3.0, 10.0)
SPEECH_DBFS = (-32.0, -20.0)
#: Probability of real noise for a clip (when the split has real noise), and the weights of
#: the synthetic kinds for the rest.
REAL_NOISE_P = 0.55
SYNTHETIC_WEIGHTS = {"white": 1.0, "pink": 1.5, "brown": 1.0, "speech_shaped": 2.0,
                     "babble": 2.5, "hum": 1.0, "fan": 1.5, "clicks": 1.0}
SECOND_LAYER_P = 0.25


@dataclass(frozen=True)
class Plan:
    """How much of what a size builds."""
    engines: tuple[str, ...]
    download: bool
    train_hours: float | None          # train noisy speech by hours ...
    train_clips: int | None            # ... or by count
    real_fraction: float               # of train and test speech, when real speakers exist
    valid_pairs: int
    test_pairs: int
    train_noise_minutes: float | None
    train_noise_clips: int | None
    targets: dict = field(default_factory=dict)   # split -> engine -> speaker count
    babble_talkers: dict = field(default_factory=dict)
    babble_utts: int = 4
    rirs: dict = field(default_factory=dict)
    #: The real-speech and real-noise packages this size may use (None: every source).
    speech_packages: tuple[str, ...] | None = None
    noise_packages: tuple[str, ...] | None = None


PLANS = {
    "small": Plan(
        engines=("espeak-ng", "flite"), download=False, train_hours=None, train_clips=40,
        real_fraction=0.5, valid_pairs=10, test_pairs=10, train_noise_minutes=None,
        train_noise_clips=10,
        targets={"train": {"espeak-ng": 3, "flite": 1}, "valid": {"espeak-ng": 2, "flite": 1},
                 "test": {"espeak-ng": 2, "flite": 1}},
        babble_talkers={"train": 3, "valid": 3, "test": 3}, babble_utts=2,
        rirs={"train": 4, "valid": 2, "test": 2},
        # A few small packages, so that the seconds-long build still reads real speech in
        # three formats and real noise when they are cached.
        speech_packages=("asterisk-core-sounds-fr-g722", "asterisk-core-sounds-it-g722",
                         "asterisk-core-sounds-ru-g722", "asterisk-prompt-fr-armelle",
                         "kajongg"),
        noise_packages=("lincity-ng-data", "minetest-data", "tuxpaint-data",
                        "frozen-bubble-data")),
    "full": Plan(
        engines=("espeak-ng", "flite", "festival"), download=True, train_hours=4.0,
        train_clips=None, real_fraction=0.6, valid_pairs=150, test_pairs=300,
        train_noise_minutes=90.0, train_noise_clips=None,
        targets={"train": {"espeak-ng": 28, "flite": 8, "festival": 4},
                 "valid": {"espeak-ng": 8, "flite": 3},
                 "test": {"espeak-ng": 8, "flite": 2, "festival": 2}},
        babble_talkers={"train": 16, "valid": 6, "test": 6}, babble_utts=5,
        rirs={"train": 40, "valid": 10, "test": 15}),
}


def get_plan(size: str) -> Plan:
    """The plan of a corpus size.

    Args:
        size: a key of `PLANS` ("small", "full").

    Returns:
        Its `Plan`.

    Raises:
        DataError: an unknown size.
    """
    if size not in PLANS:
        raise DataError(f"unknown corpus size {size!r}: use one of {', '.join(PLANS)}")
    return PLANS[size]


class NoiseLayer(NamedTuple):
    """One layer of a clip's noise."""
    kind: str        # "real" | "synthetic"
    what: str        # the package (real) or the synthetic kind
    gain_db: float   # relative to the first layer (0 for the first)


@dataclass(frozen=True)
class BabbleJob:
    """One utterance of a babble talker."""
    split: str
    speaker: Speaker
    seed: int


@dataclass(frozen=True)
class RoomJob:
    """One room impulse response of a split."""
    split: str
    seed: int


@dataclass(frozen=True)
class PairJob:
    """A clean/noisy pair: the speech, its room and its noise."""
    split: str
    id: str
    seconds: float
    real: bool           # real speech (from a package) or TTS
    speaker: str         # real-speech package name, or TTS speaker id
    snr: float           # dB, rounded to 0.01
    rir: int             # index into the split's rooms; -1: dry
    noise: tuple[NoiseLayer, ...]
    seed: int


@dataclass(frozen=True)
class NoiseJob:
    """A noise-only training clip."""
    split: str
    id: str
    seconds: float
    noise: tuple[NoiseLayer, ...]
    seed: int


def plan_voices_and_rooms(plan: Plan, seed: int, babblers: Mapping[str, Sequence[Speaker]]
                          ) -> list[BabbleJob | RoomJob]:
    """The jobs that make the babble banks and rooms, which the corpus files then draw on.

    Args:
        plan: the size's plan (`babble_utts` per talker, `rirs` per split).
        seed: the corpus seed.
        babblers: split -> babble talkers.

    Returns:
        Per split, every talker's utterances, then the split's rooms.
    """
    jobs: list[BabbleJob | RoomJob] = []
    for s in SPLITS:
        for spk in babblers[s]:
            for k in range(plan.babble_utts):
                jobs.append(BabbleJob(s, spk, derive_seed(seed, "babble", spk.id, k)))
        for k in range(plan.rirs[s]):
            jobs.append(RoomJob(s, derive_seed(seed, "rir", s, k)))
    return jobs


def plan_jobs(plan: Plan, seed: int, targets: Mapping[str, Sequence[str]],
              real_speakers: Mapping[str, Mapping[str, float]],
              noise_pool: Mapping[str, Mapping[str, Sequence[NoiseFile]]],
              rooms: Mapping[str, int]) -> list[PairJob | NoiseJob]:
    """Every corpus file to render, in manifest order.

    Args:
        plan: the size's plan.
        seed: the corpus seed.
        targets: split -> TTS target speaker ids.
        real_speakers: split -> real voice -> its seconds of speech. A real clip's voice is
            drawn with probability in proportion to the square root of those seconds: every
            voice is heard, and a voice with minutes of words is not replayed as often as
            one with an hour of dialogue.
        noise_pool: split -> package -> real noise files.
        rooms: split -> number of rooms.

    Returns:
        The pairs of train, valid and test (by count, or train by hours), then the train
        noise-only clips.
    """
    jobs: list[PairJob | NoiseJob] = []
    for s in SPLITS:
        rng = derive_rng(seed, "jobs", s)
        real = list(real_speakers[s])
        if real:
            w = np.sqrt([real_speakers[s][v] for v in real])
            w = w / w.sum()
        frac = plan.real_fraction if real else 0.0
        if s == "train":
            count, hours = plan.train_clips, plan.train_hours
        else:
            count, hours = (plan.valid_pairs if s == "valid" else plan.test_pairs), None
        total, i = 0.0, 0
        while (count is not None and i < count) or (hours is not None and total < hours * 3600):
            # The order of the draws is part of the corpus: keep it.
            dur = float(rng.uniform(*SPEECH_SECONDS))
            is_real = bool(rng.random() < frac)
            speaker = real[int(rng.choice(len(real), p=w))] if is_real else \
                targets[s][int(rng.integers(len(targets[s])))]
            rev = bool(rng.random() < REVERB_FRACTION) and rooms[s] > 0
            snr = round(float(rng.uniform(*SNR_RANGE)), 2)
            rir = int(rng.integers(rooms[s])) if rev else -1
            jobs.append(PairJob(s, f"{s}-{i:06d}", dur, is_real, speaker, snr, rir,
                                draw_noise(rng, noise_pool[s]), derive_seed(seed, "pair", s, i)))
            total += dur
            i += 1
    rng = derive_rng(seed, "jobs", "noise")
    total, i = 0.0, 0
    while ((plan.train_noise_clips is not None and i < plan.train_noise_clips)
           or (plan.train_noise_minutes is not None and total < plan.train_noise_minutes * 60)):
        dur = float(rng.uniform(*NOISE_SECONDS))
        jobs.append(NoiseJob("train", f"train-noise-{i:06d}", dur,
                             draw_noise(rng, noise_pool["train"]), derive_seed(seed, "noise", i)))
        total += dur
        i += 1
    return jobs


def draw_noise(rng: np.random.Generator, pool: Mapping[str, Sequence[NoiseFile]]
               ) -> tuple[NoiseLayer, ...]:
    """The noise layers of one clip: one, or two with probability `SECOND_LAYER_P`.

    Args:
        rng: the planning generator.
        pool: package -> real noise files of the clip's split (may be empty).

    Returns:
        The layers; each is real (a package, by `package_weight`) with probability
        `REAL_NOISE_P` when `pool` has any, else synthetic (by `SYNTHETIC_WEIGHTS`).
    """
    layers = []
    for layer in range(2 if rng.random() < SECOND_LAYER_P else 1):
        gain = 0.0 if layer == 0 else float(rng.uniform(-12, -3))
        if pool and rng.random() < REAL_NOISE_P:
            names = sorted(pool)
            w = np.array([package_weight(pool[n]) for n in names])
            layers.append(NoiseLayer("real", names[int(rng.choice(len(names), p=w / w.sum()))],
                                     gain))
        else:
            kinds = list(SYNTHETIC_WEIGHTS)
            w = np.array([SYNTHETIC_WEIGHTS[k] for k in kinds])
            layers.append(NoiseLayer("synthetic",
                                     kinds[int(rng.choice(len(kinds), p=w / w.sum()))], gain))
    return tuple(layers)


def package_weight(files: Sequence[NoiseFile]) -> float:
    """How often a real-noise package is drawn: sqrt(file count) x minutes**0.25.

    Many distinct sounds count most, long recordings some, and a package of a few tiny
    effects is not replayed as often as one with an hour of material.

    Args:
        files: the package's files in the split.

    Returns:
        The (unnormalised) weight.
    """
    minutes = sum(f.seconds for f in files) / 60
    return float(np.sqrt(len(files)) * max(minutes, 1e-3) ** 0.25)
