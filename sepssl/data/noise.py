"""Noise: real recorded sounds from Debian game/ambience packages, and synthetic noises.

Why: noise variety is what most limits how well an enhancer carries over to real recordings,
so the pool mixes many real sources (ambience, sound effects, music) with synthetic kinds that
cover what recordings miss (coloured, speech-shaped, babble, hum, fan, clicks/bursts). Short
real clips are stitched to the needed length, with crossfades or with pauses (transient noise).

The synthetic generators are a few lines of numpy each (FFT shaping), written here so that every
draw is reproducible from one numpy Generator and the corpus needs no extra dependency.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import audio
from ..errors import AudioError
from ..files import atomic_write
from .debian import Package

SAMPLE_RATE = 16000
#: File endings read as audio (libsndfile reads each of them).
AUDIO_SUFFIXES = (".wav", ".ogg", ".flac", ".opus", ".aiff", ".aif", ".mp3")
SYNTHETIC_KINDS = ("white", "pink", "brown", "speech_shaped", "babble", "hum", "fan", "clicks")


@dataclass(frozen=True)
class NoiseSource:
    """A Debian package of recorded sound, and which of its files are noise.

    Attributes:
        package: the Debian package.
        licence: the audio's licence, from the package's copyright file.
        keep: if set, only paths matching this regular expression are used.
        drop: paths matching this regular expression are left out: voices, grunts, crowds
            cheering, anything that would put speech into "noise" (judged from the names;
            see metrics/corpus_v2_survey.md).
    """
    package: str
    licence: str = ""
    keep: str | None = None
    drop: str | None = None

    def wants(self, rel: str) -> bool:
        """Whether the file at `rel` (a path inside the package) is noise by this rule."""
        return ((self.keep is None or re.search(self.keep, rel) is not None)
                and (self.drop is None or re.search(self.drop, rel) is None))


#: Character-named clips of qabcs-data's `abcs/all/` (may be speech or song).
_QABCS_CHARACTERS = ("adjutant|cheburashka|chef|clown|dogmatix|dunno|emelya|firebird|gamekeeper|"
                     "ivasyk|joker|ole_lukoje|pishik|prince|sailorboy|schooler|umka|ursula|"
                     "x-men|yaga|zozulka")
#: Every real-noise source, in build order: ambience, machines, effects, music. The split
#: of each (per file, or test-only) is in `corpus.splits`.
SOURCES = (
    NoiseSource("lincity-ng-data", "GPL-2+"),
    NoiseSource("minetest-data", "CC-BY-SA-3.0 / LGPL-2.1+ (per file)"),
    NoiseSource("colobot-common-sounds", "GPL-3+"),
    NoiseSource("extremetuxracer-data", "GPL-2+"),
    NoiseSource("tuxpaint-data", "GPL-2+", drop=r"(areyousure|giggle)\."),
    NoiseSource("frozen-bubble-data", "GPL-2"),
    NoiseSource("scorched3d-data", "GPL-2+ (parts CC-BY-SA-3.0 / public domain)",
                drop=r"scream|cheering|laserdeath"),
    NoiseSource("enigma-data", "GPL"),
    NoiseSource("warmux-data", "GPL-2+", drop=r"/voices/"),
    NoiseSource("hedgewars-data", "GPL-2 / GFDL-1.3 (sounds)", drop=r"/voices/"),
    NoiseSource("wesnoth-1.16-data", "GPL-2", drop=r"laugh|select"),
    NoiseSource("freedroidrpg-data", "GPL-2+", drop=r"voice_samples|tux_ingame_comments"),
    NoiseSource("widelands-data", "GPL-2+ (3 tracks CC-BY-SA-3.0)"),
    NoiseSource("megaglest-data", "CC-BY-SA-3.0",
                keep=r"/tilesets/|/music/|/menu/|water_sounds"),
    NoiseSource("supertux-data", "GPL-3+ (music GPL-2+)", drop=r"/speech/|tux_|grunts"),
    NoiseSource("warzone2100-music", "GPL-2+"),
    NoiseSource("unknown-horizons", "GPL-2+"),
    NoiseSource("hydrogen-drumkits", "per kit: GPL-2/2+, CC-BY-3.0, CC-BY-SA-3.0, CC0"),
    NoiseSource("qabcs-data", "GPL-3+", keep=r"/abcs/all/",
                drop=rf"/({_QABCS_CHARACTERS})[^/]*$"),
)
PACKAGES = tuple(s.package for s in SOURCES)


def source(package: str) -> NoiseSource:
    """The `NoiseSource` of a package (a package without one uses every audio file)."""
    return next((s for s in SOURCES if s.package == package), NoiseSource(package))


@dataclass(frozen=True)
class NoiseFile:
    """An audio file inside an unpacked Debian package."""
    package: str
    version: str
    rel: str           # path inside the package
    path: Path
    seconds: float

    @property
    def name(self) -> str:
        """`package:path`, the name recorded in the corpus."""
        return f"{self.package}:{self.rel}"


def list_files(pkg: Package, min_seconds: float = 0.1) -> list[NoiseFile]:
    """Readable audio files of a package that its `NoiseSource` takes as noise, by path.

    Args:
        pkg (Package): An unpacked package.
        min_seconds (float, optional): Shortest file kept, in seconds. (Default: ``0.1``)

    Returns:
        list[NoiseFile]: The files; unreadable ones are skipped.
    """
    rule = source(pkg.name)
    found = sorted(p for p in pkg.root.rglob("*")
                   if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
                   and rule.wants(p.relative_to(pkg.root).as_posix()))
    out = []
    for p in found:
        try:
            i = audio.info(p)
        except AudioError:
            continue
        if i.seconds >= min_seconds:
            out.append(NoiseFile(pkg.name, pkg.version, str(p.relative_to(pkg.root)), p,
                                 round(i.seconds, 3)))
    return out


def load(nf: NoiseFile, cache_dir: Path) -> np.ndarray:
    """A noise file as float32 mono 16 kHz, cached as .npy after the first decode.

    Args:
        nf (NoiseFile): The file.
        cache_dir (Path): Cache folder (decoded files go to its `decoded/`).

    Returns:
        numpy.ndarray: Waveform, shape `(time,)` (memory-mapped when read from the cache).
    """
    cache = (Path(cache_dir).expanduser() / "decoded" / f"{nf.package}_{nf.version}"
             / (nf.rel + ".npy"))
    if cache.exists():
        return np.load(cache, mmap_mode="r")
    wav, _ = audio.read(nf.path, SAMPLE_RATE, check=False)
    x = torch.nan_to_num(wav.mean(0)).numpy().astype(np.float32)
    with atomic_write(cache) as tmp, open(tmp, "wb") as f:
        np.save(f, x)
    return x


def real(files: list[NoiseFile], n: int, rng: np.random.Generator, cache_dir: Path
         ) -> tuple[np.ndarray, list[str]]:
    """Real noise from the files of one package, stitched when a file is short.

    Each piece is normalised to unit RMS; in some draws pauses are left between pieces
    (transient noise).

    Args:
        files (list[NoiseFile]): Files to draw from.
        n (int): Length, in samples.
        rng (numpy.random.Generator): Random generator.
        cache_dir (Path): Decode cache (see `load`).

    Returns:
        (numpy.ndarray, list[str]): The float32 noise, shape `(n,)`, and the names of the files
        used.
    """
    parts: list[np.ndarray] = []
    names: list[str] = []
    total = 0
    gaps = rng.random() < 0.4      # transient style: pauses between short clips
    for _ in range(200):
        nf = files[int(rng.integers(len(files)))]
        x = load(nf, cache_dir)
        need = n - total
        if len(x) > need:
            for _try in range(5):
                start = int(rng.integers(len(x) - need + 1))
                seg = x[start:start + need]
                if _rms(seg) > 0.05 * _rms(x):
                    break
            x = seg
        if _rms(x) <= 1e-6:
            continue
        parts.append((x / _rms(x)).astype(np.float32))
        names.append(nf.name)
        total += len(x)
        if total >= n:
            break
        if gaps:
            g = int(rng.uniform(0.0, 0.6) * SAMPLE_RATE)
            parts.append(np.zeros(g, np.float32))
            total += g
    y = crossfade_concat(parts, int(0.03 * SAMPLE_RATE))
    if len(y) < n:  # only when every file was silent
        y = np.concatenate([y, white(n - len(y), rng) * 1e-3])
    return y[:n], names


def crossfade_concat(parts: list[np.ndarray], fade: int) -> np.ndarray:
    """Join pieces with raised-cosine crossfades (shorter for short pieces).

    Args:
        parts (list[numpy.ndarray]): Pieces, each of shape `(time,)`.
        fade (int): Crossfade length, in samples.

    Returns:
        numpy.ndarray: Float32 joined signal.
    """
    out = parts[0].astype(np.float32)
    for p in parts[1:]:
        f = min(fade, len(out) // 2, len(p) // 2)
        if f <= 1:
            out = np.concatenate([out, p])
            continue
        w = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, f))).astype(np.float32)
        mid = out[-f:] * w[::-1] + p[:f] * w
        out = np.concatenate([out[:-f], mid, p[f:]])
    return out


# ----------------------------------------------------------------------------- synthetic

def white(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of unit-variance white Gaussian noise, float32."""
    return rng.standard_normal(n).astype(np.float32)


def coloured(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Coloured noise with power spectrum 1/f**exponent (1 = pink, 2 = brown), flat below 20 Hz.

    Args:
        n (int): Length, in samples.
        rng (numpy.random.Generator): Random generator.
        exponent (float): Spectral exponent.

    Returns:
        numpy.ndarray: Float32 noise at unit RMS, shape `(n,)`.
    """
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spec *= np.maximum(f, 20.0) ** (-exponent / 2)
    return _unit(np.fft.irfft(spec, n))


def speech_shaped(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with a long-term average speech spectrum: flat to ~500 Hz, then falling by
    about 6-10 dB per octave, rolled off below 100 Hz (random shape within those bounds).

    Args:
        n (int): Length, in samples.
        rng (numpy.random.Generator): Random generator.

    Returns:
        numpy.ndarray: Float32 noise at unit RMS, shape `(n,)`.
    """
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SAMPLE_RATE), 1.0)
    knee = rng.uniform(350, 700)
    slope = rng.uniform(6, 10) / 6.02           # in powers of f (amplitude)
    gain = np.where(f < knee, 1.0, (knee / f) ** slope) / np.sqrt(1 + (100 / f) ** 4)
    return _unit(np.fft.irfft(spec * gain, n))


def hum(n: int, rng: np.random.Generator) -> np.ndarray:
    """Mains hum: 50 or 60 Hz and its harmonics (odd ones stronger), slight noise, sometimes
    clipped into a buzz.

    Args:
        n (int): Length, in samples.
        rng (numpy.random.Generator): Random generator.

    Returns:
        numpy.ndarray: Float32 noise at unit RMS, shape `(n,)`.
    """
    f0 = (50.0 if rng.random() < 0.5 else 60.0) * rng.uniform(0.995, 1.005)
    t = np.arange(n) / SAMPLE_RATE
    y = np.zeros(n)
    for k in range(1, int(rng.integers(4, 16))):
        amp = rng.uniform(0.2, 1.0) / k ** rng.uniform(0.3, 1.2) * (1.5 if k % 2 else 1.0)
        y += amp * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi))
    y = _unit(y) + 0.05 * white(n, rng)
    if rng.random() < 0.5:                      # buzz: clipped hum has many harmonics
        y = np.clip(y, -rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0))
    return _unit(y)


def fan(n: int, rng: np.random.Generator) -> np.ndarray:
    """Fan/engine: low-passed noise with resonances, slow amplitude modulation, blade tone.

    Args:
        n (int): Length, in samples.
        rng (numpy.random.Generator): Random generator.

    Returns:
        numpy.ndarray: Float32 noise at unit RMS, shape `(n,)`.
    """
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SAMPLE_RATE), 1.0)
    cut = rng.uniform(300, 3000)
    gain = 1 / np.sqrt(1 + (f / cut) ** rng.uniform(2, 6))
    for _ in range(int(rng.integers(1, 5))):
        fc, bw = rng.uniform(80, 2500), rng.uniform(10, 150)
        gain += rng.uniform(0.5, 3) * np.exp(-0.5 * ((f - fc) / bw) ** 2)
    y = _unit(np.fft.irfft(spec * gain, n))
    t = np.arange(n) / SAMPLE_RATE
    y *= 1 + rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * rng.uniform(0.1, 2) * t
                                           + rng.uniform(0, 2 * np.pi))
    blade = rng.uniform(60, 400)
    y += rng.uniform(0, 0.5) * np.sin(2 * np.pi * blade * t)
    return _unit(y)


def clicks(n: int, rng: np.random.Generator) -> np.ndarray:
    """Clicks and bursts: Poisson events of decaying filtered noise over a faint background.

    Args:
        n (int): Length, in samples.
        rng (numpy.random.Generator): Random generator.

    Returns:
        numpy.ndarray: Float32 noise at unit RMS, shape `(n,)`.
    """
    y = 0.02 * coloured(n, rng, rng.uniform(0, 2))
    rate = rng.uniform(0.5, 8)                  # events per second
    count = max(1, rng.poisson(rate * n / SAMPLE_RATE))
    for _ in range(count):
        length = int(rng.uniform(0.001, 0.15) * SAMPLE_RATE) + 2
        start = int(rng.integers(max(1, n - length)))
        burst = rng.standard_normal(length) * np.exp(-np.arange(length)
                                                     / (length * rng.uniform(0.1, 0.5)))
        if rng.random() < 0.5:                  # duller bursts
            k = int(rng.integers(2, 12))
            burst = np.convolve(burst, np.ones(k) / k, mode="same")
        seg = y[start:start + length]
        seg += rng.uniform(0.2, 1.0) * burst[:len(seg)] / (np.abs(burst).max() + 1e-9)
    return _unit(y)


def babble(n: int, rng: np.random.Generator, bank: list[tuple[str, np.ndarray]]
           ) -> tuple[np.ndarray, list[str]]:
    """Babble: 3-6 talkers from `bank`, each looped to `n` samples at a random offset, at
    random levels within 6 dB.

    Args:
        n (int): Length, in samples.
        rng (numpy.random.Generator): Random generator.
        bank (list[tuple[str, numpy.ndarray]]): `(talker, utterance)` pairs at 16 kHz.

    Returns:
        (numpy.ndarray, list[str]): The float32 babble at unit RMS, shape `(n,)`, and the
        talkers used.
    """
    talkers = sorted({t for t, _ in bank})
    k = min(len(talkers), int(rng.integers(3, 7)))
    chosen = [talkers[i] for i in rng.choice(len(talkers), size=k, replace=False)]
    y = np.zeros(n, np.float32)
    for t in chosen:
        utts = [u for name, u in bank if name == t]
        parts, total = [], 0
        while total < n + SAMPLE_RATE:
            u = utts[int(rng.integers(len(utts)))]
            gap = np.zeros(int(rng.uniform(0.05, 0.5) * SAMPLE_RATE), np.float32)
            parts += [u / (_rms(u) + 1e-9), gap]
            total += len(u) + len(gap)
        s = np.concatenate(parts)
        off = int(rng.integers(len(s) - n + 1))
        y += s[off:off + n] * 10 ** (rng.uniform(-6, 0) / 20)
    return _unit(y), chosen


def synthetic(kind: str, n: int, rng: np.random.Generator,
              babble_bank: list[tuple[str, np.ndarray]] | None = None
              ) -> tuple[np.ndarray, list[str]]:
    """Synthetic noise of one kind.

    Args:
        kind (str): One of `SYNTHETIC_KINDS`.
        n (int): Length, in samples.
        rng (numpy.random.Generator): Random generator.
        babble_bank (list[tuple[str, numpy.ndarray]] or None, optional): Talkers for
            ``"babble"``; without them, speech-shaped noise is returned instead.

    Returns:
        (numpy.ndarray, list[str]): The float32 noise, shape `(n,)`, and a description of what
        was made (e.g. ``["pink"]``, ``["babble(4)"]``).

    Raises:
        ValueError: If `kind` is unknown.
    """
    if kind == "white":
        return white(n, rng), [kind]
    if kind == "pink":
        return coloured(n, rng, rng.uniform(0.8, 1.2)), [kind]
    if kind == "brown":
        return coloured(n, rng, rng.uniform(1.7, 2.2)), [kind]
    if kind == "speech_shaped":
        return speech_shaped(n, rng), [kind]
    if kind == "hum":
        return hum(n, rng), [kind]
    if kind == "fan":
        return fan(n, rng), [kind]
    if kind == "clicks":
        return clicks(n, rng), [kind]
    if kind == "babble":
        if not babble_bank:
            return speech_shaped(n, rng), ["speech_shaped"]
        y, talkers = babble(n, rng, babble_bank)
        return y, [f"babble({len(talkers)})"]
    raise ValueError(f"unknown synthetic noise kind {kind!r}")


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / (_rms(x) + 1e-12)).astype(np.float32)
