"""Datasets over plain folders of audio (or lists of files): what users actually have.

Training yields raw clips only — `{"speech": (time,), "noise": (time,)}` random crops — and the
task mixes them on the training device. Validation yields whole paired (noisy, clean) files.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import torch
from torch.utils.data import Dataset

from .. import audio
from ..errors import DataError, SepsslError


def list_audio(source: str | os.PathLike) -> list[Path]:
    """Audio files of a folder (recursive) or of a list file (.txt: one path a line; .csv: a
    `path` column); relative paths in a list are taken from the list file's folder."""
    source = Path(source)
    if source.is_dir():
        files = audio.find_audio(source)
    elif source.is_file() and source.suffix.lower() in (".txt", ".csv"):
        with open(source, newline="") as f:
            if source.suffix.lower() == ".csv":
                rows = list(csv.DictReader(f))
                if rows and "path" not in rows[0]:
                    raise DataError(f"{source}: a file list in CSV needs a 'path' column")
                names = [r["path"] for r in rows]
            else:
                names = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        files = [p if p.is_absolute() else source.parent / p for p in map(Path, names)]
        missing = [p for p in files if not p.is_file()]
        if missing:
            raise DataError(f"{source}: lists {len(missing)} missing file(s), e.g. {missing[0]}")
    else:
        raise DataError(f"{source}: not a folder of audio files or a .txt/.csv file list")
    if not files:
        raise DataError(f"{source}: contains no audio files")
    return files


class _Clips:
    """Files with their lengths, read as random fixed-length crops at one sample rate."""

    def __init__(self, source, sample_rate: int, frames: int):
        self.files = list_audio(source)
        self.sample_rate, self.frames = sample_rate, frames
        self.lengths = []
        self.rates = []
        for f in self.files:
            try:
                meta = audio.info(f)
            except SepsslError as exc:
                raise DataError(f"{source}: {exc}") from None
            self.lengths.append(meta.frames)
            self.rates.append(meta.sample_rate)

    def crop(self, i: int, tile: bool) -> torch.Tensor:
        """A random `frames`-long crop of file i, mono; short files are tiled or zero-padded."""
        rate, length = self.rates[i], self.lengths[i]
        if rate == self.sample_rate:
            want = min(self.frames, length)
            start = int(torch.randint(0, length - want + 1, (1,)))
            wav = audio.read_span(self.files[i], start, want)
        else:
            wav, _ = audio.read(self.files[i], self.sample_rate, check=False)
            length = wav.shape[-1]
            want = min(self.frames, length)
            start = int(torch.randint(0, length - want + 1, (1,)))
            wav = wav[:, start:start + want]
        wav = wav.mean(0)
        if wav.shape[-1] < self.frames:
            if tile and wav.shape[-1] > 0:
                wav = wav.repeat(self.frames // wav.shape[-1] + 1)[: self.frames]
            else:
                wav = torch.nn.functional.pad(wav, (0, self.frames - wav.shape[-1]))
        return torch.nan_to_num(wav)


class SpeechNoiseClips(Dataset):
    """Item i: a crop of speech file i mod N and of a random noise file (mixed later, on device).

    `speech` is noisy speech for the self-supervised tasks and clean speech for the oracle.
    """

    def __init__(self, speech, noise, sample_rate: int, segment_seconds: float,
                 items_per_epoch: int | None = None):
        frames = int(segment_seconds * sample_rate)
        self.speech = _Clips(speech, sample_rate, frames)
        self.noise = _Clips(noise, sample_rate, frames)
        self.items = items_per_epoch or len(self.speech.files)

    def __len__(self) -> int:
        return self.items

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        j = int(torch.randint(0, len(self.noise.files), (1,)))
        return {"speech": self.speech.crop(i % len(self.speech.files), tile=False),
                "noise": self.noise.crop(j, tile=True)}


class PairedFiles(Dataset):
    """Whole (noisy, clean) files paired by relative path under `root/noisy` and `root/clean`.

    Items are the mono mixture `(time,)` and the references `(channels, time)`: one channel
    for enhancement sets, one channel per source for separation sets."""

    def __init__(self, root, sample_rate: int, limit: int | None = None):
        root = Path(root)
        noisy, clean = root / "noisy", root / "clean"
        if not noisy.is_dir() or not clean.is_dir():
            raise DataError(f"{root}: a paired set needs the folders noisy/ and clean/")
        pairs = [(f, clean / f.relative_to(noisy)) for f in audio.find_audio(noisy)]
        pairs = [p for p in pairs if p[1].is_file()]
        if not pairs:
            raise DataError(f"{root}: no noisy/ file has a clean/ file of the same name")
        self.pairs = pairs[:limit] if limit else pairs
        self.sample_rate = sample_rate

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        noisy, _ = audio.read(self.pairs[i][0], self.sample_rate, check=False)
        clean, _ = audio.read(self.pairs[i][1], self.sample_rate, check=False)
        n = min(noisy.shape[-1], clean.shape[-1])
        return noisy.mean(0)[:n], clean[:, :n]
