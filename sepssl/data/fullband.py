"""The full-band part of the corpus (`sepssl data --fullband`): real speech and real noise whose
sources are recorded at 44.1 or 48 kHz, at their own rate, for training full-band models.

Why: the corpus proper is 16 kHz, so nothing in it can teach a model the band above 8 kHz.
Here each real voice and noise file keeps the split the 16 kHz corpus gave it (so the two never
disagree on which voice or noise file a split holds), and only what really has a full band goes
in: a speech file when its band above 8 kHz comes and goes with the speech (not a hiss floor;
KLettres has both), a noise file when its package recorded it at 44.1 / 48 kHz. Speech goes as
one voice's utterances joined with short pauses into clips of about `CLIP_SECONDS` (files in
path order), noise as its files, each cut to `NOISE_SECONDS`; each clean clip also gets a noisy
twin: a noise file of its split at an SNR of -5…20 dB (the corpus's range), seeded (a split
with no full-band noise gets none: `noisy_files` in corpus.json says how many were made).

Layout: `fullband/{train,valid,test}/{clean,noisy,noise}/*.wav` (16-bit; `noisy/` and `clean/`
are paired by name, so valid and test can be scored with `sepssl evaluate` as they are), e.g.

    sepssl train noisy_target --set sample_rate=48000 \
      --set data.train_speech=CORPUS/fullband/train/noisy \
      --set data.train_noise=CORPUS/fullband/train/noise --set data.valid=CORPUS/fullband/valid

(the loader resamples the 44.1 kHz files to the run's rate).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from .. import audio
from .corpus.seeds import derive_rng
from .debian import Package
from .noise import NoiseFile
from .premix import add_at_snr, limit_peak
from .realspeech import source, voice_files
from .tts import trim_silence

FULL_RATES = (44100, 48000)
SPLIT_HZ = 8000.0
CLIP_SECONDS = 8.0
GAP_SECONDS = 0.2
NOISE_SECONDS = 30.0
SNR_RANGE = (-5.0, 20.0)
PEAK = 0.95


def upper_band_is_speech(x: np.ndarray, rate: int) -> bool:
    """Whether `x` `(time,)` has content above 8 kHz that comes and goes with the speech: its
    frame levels there spread over at least 20 dB (a hiss floor does not), and that band holds
    at least -40 dB of the whole."""
    n = 1024
    if len(x) < 4 * n or rate <= 2 * SPLIT_HZ:
        return False
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::n // 2] * np.hanning(n)
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2
    upper = np.fft.rfftfreq(n, 1 / rate) >= SPLIT_HZ
    level = 10 * np.log10(power[:, upper].sum(1) + 1e-12)
    share = power[:, upper].sum() / (power.sum() + 1e-20)
    return bool(np.percentile(level, 95) - np.percentile(level, 10) >= 20 and share > 1e-4)


def voice_utterances(pkg: Package, voices: set[str]) -> dict[tuple[str, int], list[np.ndarray]]:
    """The full-band utterances of `voices` in a real-speech package, by (voice, rate).

    The files of the 16 kHz build (`realspeech.voice_files`, exact duplicates within a voice
    kept once, as there), read at their own rate when it is 44.1 / 48 kHz: mono, silence
    trimmed, kept when their upper band is speech. Packages decoded by other means (G.722,
    GSM) are narrowband and give none.
    """
    found: dict[tuple[str, int], list[np.ndarray]] = {}
    if source(pkg.name).decode != "soundfile":
        return found
    files, _ = voice_files(pkg)
    for voice in sorted(set(files) & voices):
        seen: set[bytes] = set()
        for f in files[voice]:
            digest = hashlib.md5(f.read_bytes()).digest()
            if digest in seen:
                continue
            seen.add(digest)
            try:
                if sf.info(f).samplerate not in FULL_RATES:
                    continue
                x, rate = sf.read(f, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError):   # unreadable: the 16 kHz build counts it
                continue
            x = trim_silence(x.mean(1).astype(np.float64), rate, floor_db=-45.0)
            if len(x) >= int(0.3 * rate) and upper_band_is_speech(x.astype(np.float32), rate):
                found.setdefault((voice, rate), []).append(x.astype(np.float32))
    return found


def join_clips(utterances: Sequence[np.ndarray], rate: int) -> list[np.ndarray]:
    """Utterances in order, joined with `GAP_SECONDS` pauses into clips of at least
    `CLIP_SECONDS` (the last may be shorter, a longer utterance stays whole)."""
    gap = np.zeros(int(GAP_SECONDS * rate), np.float32)
    clips, parts, length = [], [], 0
    for u in utterances:
        parts += [u, gap]
        length += len(u) + len(gap)
        if length >= CLIP_SECONDS * rate:
            clips.append(np.concatenate(parts[:-1]))
            parts, length = [], 0
    if parts:
        clips.append(np.concatenate(parts[:-1]))
    return clips


def _name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def _write(path: Path, x: np.ndarray, rate: int) -> float:
    audio.write(path, torch.from_numpy(np.ascontiguousarray(x))[None], rate, subtype="PCM_16")
    return len(x) / rate


def noisy_twin(clean: np.ndarray, noise: np.ndarray, snr_db: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`clean` `(time,)` plus a random stretch of `noise` (repeated when short; not a silent
    one) at `snr_db`; both scaled alike when the mixture would peak above `PEAK`.

    Returns:
        (noisy, clean), float32, the length of `clean`.
    """
    n = len(clean)
    looped = np.tile(noise, -(-(n + len(noise)) // len(noise)))
    power = lambda v: float(np.mean(v.astype(np.float64) ** 2)) + 1e-12  # noqa: E731
    for _ in range(10):           # a stretch that is not one of the file's silences
        start = int(rng.integers(len(noise)))
        stretch = looped[start:start + n]
        if power(stretch) > 1e-3 * power(noise):
            break
    noisy, clean = limit_peak([add_at_snr(clean, stretch, snr_db), clean], PEAK)
    return noisy.astype(np.float32), clean.astype(np.float32)


def build_fullband(out: Path, speech_pkgs: Sequence[Package],
                   voices: Mapping[str, Sequence[str]],
                   noise_pool: Mapping[str, Mapping[str, Sequence[NoiseFile]]],
                   seed: int = 0, progress: bool = False) -> dict:
    """Write `out/fullband/` and say what it holds.

    Args:
        out: the corpus folder.
        speech_pkgs: the real-speech packages the corpus was built from.
        voices: split -> the real voices the 16 kHz corpus put there.
        noise_pool: split -> package -> its noise files in that split (the corpus's own).
        seed: the corpus seed (which noise and SNR each noisy twin gets).
        progress: show progress bars (noise files, then speech packages).

    Returns:
        For corpus.json: per split the voices, speech files and hours, noisy twins, noise
        packages, files and hours, with the rates and rules.
    """
    split_of = {v: s for s, vs in voices.items() for v in vs}
    summary: dict = {"rates_hz": list(FULL_RATES), "clip_seconds": CLIP_SECONDS,
                     "noise_seconds": NOISE_SECONDS, "snr_db_range": list(SNR_RANGE),
                     "speech_rule": "upper band (above 8 kHz) frame levels spread >= 20 dB",
                     "splits": {s: {"voices": [], "speech_files": 0, "speech_hours": 0.0,
                                    "noisy_files": 0, "noise_packages": [], "noise_files": 0,
                                    "noise_hours": 0.0}
                                for s in voices}}
    from tqdm import tqdm

    noises: dict[str, list[Path]] = {s: [] for s in summary["splits"]}
    bar = tqdm(total=sum(len(f) for s, p in noise_pool.items() if s in noises for f in p.values()),
               desc="full band noise", unit="file", disable=not progress)
    for split, packages in noise_pool.items():
        part = summary["splits"].get(split)
        if part is None:
            continue
        for package, files in packages.items():
            for nf in files:
                bar.update()
                try:
                    info = sf.info(nf.path)
                    if info.samplerate not in FULL_RATES:
                        continue
                    x, rate = sf.read(nf.path, dtype="float32", always_2d=True,
                                      frames=int(NOISE_SECONDS * info.samplerate))
                except (sf.LibsndfileError, RuntimeError):
                    continue
                x = np.nan_to_num(x.mean(1))
                if x.size == 0 or not np.abs(x).max() > 1e-4:   # empty or silent
                    continue
                stem = _name(f"{nf.package}:{Path(nf.rel).with_suffix('')}")
                path = out / "fullband" / split / "noise" / f"{stem}.wav"
                if path in noises[split]:          # a.ogg beside a.wav
                    path = path.with_name(f"{stem}-{len(noises[split])}.wav")
                seconds = _write(path, x / max(1.0, float(np.abs(x).max())), rate)
                noises[split].append(path)
                part["noise_files"] += 1
                part["noise_hours"] += seconds / 3600
                if package not in part["noise_packages"]:
                    part["noise_packages"].append(package)
    bar.close()
    for pkg in tqdm(speech_pkgs, desc="full band speech", unit="package", disable=not progress):
        for (voice, rate), utts in voice_utterances(pkg, set(split_of)).items():
            split = split_of[voice]
            part = summary["splits"][split]
            rng = derive_rng(seed, "fullband", voice, rate)
            for k, clip in enumerate(join_clips(utts, rate)):
                name = f"{_name(voice)}-{rate // 100}-{k:04d}.wav"
                folder = out / "fullband" / split
                if noises[split]:
                    pick = noises[split][int(rng.integers(len(noises[split])))]
                    noise, _ = audio.read(pick, rate, check=False)
                    noisy, clip = noisy_twin(clip, noise.mean(0).numpy(),
                                             float(rng.uniform(*SNR_RANGE)), rng)
                    _write(folder / "noisy" / name, noisy, rate)
                    part["noisy_files"] += 1
                seconds = _write(folder / "clean" / name, clip, rate)
                part["speech_files"] += 1
                part["speech_hours"] += seconds / 3600
            if voice not in part["voices"]:
                part["voices"].append(voice)
    for part in summary["splits"].values():
        part["speech_hours"] = round(part["speech_hours"], 3)
        part["noise_hours"] = round(part["noise_hours"], 3)
    return summary
