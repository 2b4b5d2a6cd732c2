"""Rendering: one job in, its audio (and manifest rows) out.

Why: a job carries its own seed and everything it decided at planning time; what it draws on
besides (speech banks, noise files, babble talkers, rooms, the output folder) comes in one
`RenderContext`, handed to each worker process once. Nothing here reads module state, so a job
renders the same in the parent, in a worker, or in a test.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import audio
from .. import noise, premix, realspeech, rooms, text, tts
from ..debian import Package
from .manifest import Row
from .plan import (SAMPLE_RATE, SPEECH_DBFS, SPEECH_SECONDS, BabbleJob, NoiseJob, NoiseLayer,
                   PairJob, RoomJob)
from .workers import run_jobs


class SpeechBanks(Mapping[str, realspeech.SpeakerBank]):
    """Real-speech banks by voice id, each package loaded from the decode cache on first use.

    The banks hold hours of audio, so a pickled `SpeechBanks` carries only the packages, the
    voice index and the cache folder: each worker process reads the packages it needs from
    the cache (which the parent has filled) instead of receiving copies of them.

    Args:
        packages: the real-speech packages.
        cache: the download / decode cache.
    """

    def __init__(self, packages: Sequence[Package], cache: Path):
        self._packages = {p.name: p for p in packages}
        self._cache = cache
        self._voices: dict[str, dict] = {}         # voice -> its description, in build order
        self._loaded: dict[str, realspeech.SpeakerBank] = {}

    def load_all(self, workers: int = 1, progress: bool = False) -> SpeechBanks:
        """Decode every package into the cache (in `workers` processes) and index its voices.

        Returns:
            `self`.
        """
        pkgs = list(self._packages.values())
        for pkg, voices in zip(pkgs, run_jobs(decode_voices, pkgs, self._cache, workers=workers,
                                              progress=progress, desc="real speech",
                                              chunksize=1)):
            for v in voices:
                self._voices[v["voice"]] = v
        return self

    def describe(self) -> dict[str, dict]:
        """Voice id -> `SpeakerBank.describe()` (package, language, rates, minutes), in build
        order (after `load_all`)."""
        return dict(self._voices)

    def __getitem__(self, voice: str) -> realspeech.SpeakerBank:
        if voice not in self._loaded:
            if voice not in self._voices:
                raise KeyError(voice)
            for bank in realspeech.load(self._packages[self._voices[voice]["package"]],
                                        self._cache):
                self._loaded[bank.speaker] = bank
        return self._loaded[voice]

    def __iter__(self) -> Iterator[str]:
        return iter(self._voices)

    def __len__(self) -> int:
        return len(self._voices)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_loaded": {}}


def decode_voices(pkg: Package, cache: Path) -> list[dict]:
    """Decode a real-speech package into the cache (a worker job).

    Returns:
        Its voices' descriptions (`SpeakerBank.describe()`).
    """
    return [b.describe() for b in realspeech.load(pkg, cache)]


@dataclass(frozen=True)
class RenderContext:
    """What the corpus files draw on besides their job (picklable, sent to each worker once).

    Attributes:
        out: the corpus folder.
        cache: the download / decode cache.
        banks: real voice id -> its utterances.
        noise_pool: split -> package -> real noise files.
        babble: split -> (talker id, utterance) pairs.
        rirs: split -> rooms.
        speakers: TTS speaker id -> speaker.
    """
    out: Path
    cache: Path
    banks: Mapping[str, realspeech.SpeakerBank]
    noise_pool: dict[str, dict[str, list[noise.NoiseFile]]]
    babble: dict[str, list[tuple[str, np.ndarray]]]
    rirs: dict[str, list[rooms.Rir]]
    speakers: dict[str, tts.Speaker]


def render_voice_or_room(job: BabbleJob | RoomJob, context: None = None
                         ) -> np.ndarray | rooms.Rir:
    """A babble utterance or a room impulse response.

    Args:
        job: what to make.
        context: unused (these jobs need nothing else).

    Returns:
        For a `BabbleJob`, 10-20 words of its talker, faded in and out (float32, 16 kHz);
        for a `RoomJob`, a random shoebox room's impulse response.
    """
    rng = np.random.default_rng(job.seed)
    if isinstance(job, BabbleJob):
        x = tts.synthesize(job.speaker, text.paragraph(rng, int(rng.integers(10, 20))), rng)
        return premix.fade(x, 160)
    return rooms.random_rir(rng)


def render_file(job: PairJob | NoiseJob, context: RenderContext) -> list[Row]:
    """Write one job's files into `context.out`.

    Args:
        job: a clean/noisy pair or a noise-only clip.
        context: what the files draw on.

    Returns:
        The manifest rows of the files written: clean then noisy for a pair, one row for a
        noise clip.
    """
    if isinstance(job, NoiseJob):
        return [_render_noise(job, context)]
    return _render_pair(job, context)


def _render_noise(job: NoiseJob, ctx: RenderContext) -> Row:
    rng = np.random.default_rng(job.seed)
    y, names, sources = mix_noise(job.noise, int(job.seconds * SAMPLE_RATE), rng, job.split, ctx)
    y = premix.set_level(y, float(rng.uniform(*SPEECH_DBFS)))
    y = premix.limit_peak([y])[0]
    rel = f"train/noise/{job.id}.wav"
    audio.write(ctx.out / rel, y, SAMPLE_RATE, subtype="PCM_16")
    return Row.of(job.id, job.split, "noise", rel, len(y), noise_name=names,
                  noise_source=sources)


def _render_pair(job: PairJob, ctx: RenderContext) -> list[Row]:
    rng = np.random.default_rng(job.seed)
    if job.real:
        bank = ctx.banks[job.speaker]
        x = realspeech.clip(bank, job.seconds, rng)
        speaker, source = f"{bank.package}:{bank.speaker}", bank.package
    else:
        spk = ctx.speakers[job.speaker]
        x = tts_clip(spk, job.seconds, rng)
        speaker, source = spk.id, spk.engine
    x = premix.fade(x, 80)
    x = premix.set_level(x, float(rng.uniform(*SPEECH_DBFS)))
    image = rooms.reverberate(x, ctx.rirs[job.split][job.rir]) if job.rir >= 0 else x
    n, names, sources = mix_noise(job.noise, len(x), rng, job.split, ctx)
    noisy = premix.add_at_snr(image, n, job.snr)
    clean, noisy = premix.limit_peak([x, noisy])
    rows = []
    for kind, wav in (("clean", clean), ("noisy", noisy)):
        rel = f"{job.split}/{kind}/{job.id}.wav"
        audio.write(ctx.out / rel, wav, SAMPLE_RATE, subtype="PCM_16")
        rows.append(Row.of(job.id, job.split, kind, rel, len(wav), speaker=speaker,
                           speech_source=source, noise_name=names, noise_source=sources,
                           snr_db=f"{job.snr:.2f}", reverberant=int(job.rir >= 0)))
    return rows


def tts_clip(spk: tts.Speaker, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """TTS speech of about `seconds`, cut at a pause.

    Args:
        spk: the speaker.
        seconds: the wanted length.
        rng: draws the text, pauses and prosody phase.

    Returns:
        float32 speech at 16 kHz, at most `seconds` long and at least `SPEECH_SECONDS[0]`
        (up to four utterances joined by 0.15-0.4 s pauses).
    """
    parts: list[np.ndarray] = []
    total = 0
    for _ in range(4):
        words = int(np.ceil((seconds - total / SAMPLE_RATE) * 2.8 * spk.rate)) + 2
        y = tts.synthesize(spk, text.paragraph(rng, words), rng)
        if parts:
            parts.append(np.zeros(int(rng.uniform(0.15, 0.4) * SAMPLE_RATE), np.float32))
        parts.append(y)
        total = sum(len(p) for p in parts)
        if total >= SPEECH_SECONDS[0] * SAMPLE_RATE:
            break
    x = np.concatenate(parts)
    return premix.cut_at_pause(x, int(seconds * SAMPLE_RATE), SAMPLE_RATE,
                               min_len=int(SPEECH_SECONDS[0] * SAMPLE_RATE))


def mix_noise(layers: Sequence[NoiseLayer], n: int, rng: np.random.Generator, split: str,
              ctx: RenderContext) -> tuple[np.ndarray, str, str]:
    """A clip's noise: its layers at unit RMS times their gains, summed.

    Args:
        layers: the planned layers.
        n: length in samples.
        rng: the job's generator.
        split: which split's noise files and babble talkers to use.
        ctx: the noise pool, babble bank and cache.

    Returns:
        The noise (float32), its manifest name (the files or synthetic kinds of each layer,
        joined by " & "), and its sources (packages or "synthetic", joined by "+").
    """
    total = np.zeros(n, np.float32)
    names, sources = [], []
    for kind, what, gain in layers:
        if kind == "real":
            y, used = noise.real(ctx.noise_pool[split][what], n, rng, ctx.cache)
            names.append("+".join(used) if len(used) <= 3 else
                         "+".join(used[:3]) + f"+{len(used) - 3}more")
            sources.append(what)
        else:
            y, desc = noise.synthetic(what, n, rng, ctx.babble[split])
            names.append(f"synthetic:{desc[0]}")
            sources.append("synthetic")
        total += y / (premix.rms(y) + 1e-12) * 10 ** (gain / 20)
    return total, " & ".join(names), "+".join(dict.fromkeys(sources))
