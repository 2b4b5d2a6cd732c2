"""Datasets over plain folders of audio (or lists of files): what users actually have.

Training yields raw clips only — `RawClips`: one random crop per named source, e.g.
`{"speech": (time,), "noise": (time,)}` — and the task mixes them on the training device, where
mixing is cheap and every epoch draws new mixtures. Validation yields whole paired (noisy,
clean) files.
"""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Mapping

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


class Clips:
    """The audio files of one source with their lengths, read as random fixed-length mono crops
    at one sample rate.

    Args:
        source: a folder of audio files or a .txt/.csv file list (`list_audio`).
        sample_rate (int): the rate of the crops; files at another rate are resampled.
        frames (int): samples in a crop, at `sample_rate`.
    """

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

    def length_at_rate(self, i: int) -> int:
        """File i's length at `sample_rate`: what resampling the whole file gives."""
        rate, length = self.rates[i], self.lengths[i]
        return length if rate == self.sample_rate else -(-length * self.sample_rate // rate)

    def draw_start(self, i: int) -> int:
        """A random first sample (at `sample_rate`) for a crop of file i."""
        length = self.length_at_rate(i)
        return int(torch.randint(0, length - min(self.frames, length) + 1, (1,)))

    def crop(self, i: int, tile: bool, start: int | None = None) -> torch.Tensor:
        """A `frames`-long crop of file i (at `start`, else a random one), mono; short files are
        tiled or zero-padded.

        Only the samples the crop needs are read, also from a file at another rate: its span at
        the file's rate plus the resampling kernel's reach, resampled; the crop is the one
        resampling the whole file would give (same random start, the same samples to float
        rounding).

        Args:
            i (int): the file's index in `files`.
            tile (bool): repeat a file shorter than a crop to fill it; else pad with zeros.
            start (int or None, optional): the crop's first sample at `sample_rate` (e.g. from
                `draw_start`, to crop paired files alike); None: drawn. (Default: ``None``)

        Returns:
            Tensor: `(frames,)`, NaN and Inf replaced by finite values.
        """
        rate, length = self.rates[i], self.lengths[i]
        if start is None:
            start = self.draw_start(i)
        if rate == self.sample_rate:
            want = max(0, min(self.frames, length - start))
            wav = audio.read_span(self.files[i], start, want).mean(0)
        else:
            wav = self._resampled_span(i, rate, length, start)
        if wav.shape[-1] < self.frames:
            if tile and wav.shape[-1] > 0:
                wav = wav.repeat(self.frames // wav.shape[-1] + 1)[: self.frames]
            else:
                wav = torch.nn.functional.pad(wav, (0, self.frames - wav.shape[-1]))
        return torch.nan_to_num(wav)

    def _resampled_span(self, i: int, rate: int, length: int, start: int) -> torch.Tensor:
        """The crop of file i (at `rate`, `length` samples) from `start` at `sample_rate`, mono."""
        new = self.sample_rate
        resampled_length = self.length_at_rate(i)
        want = max(0, min(self.frames, resampled_length - start))
        # the span starts on a sample where both rates' grids meet (a multiple of
        # rate / gcd), so the span's output samples fall on the whole file's output grid
        period = rate // math.gcd(rate, new)
        margin = audio.resample_margin(rate, new)
        first = max(0, (start * rate // new - margin) // period * period)
        last = min(length, -(-(start + want) * rate // new) + margin)
        span = audio.read_span(self.files[i], first, last - first).mean(0)
        offset = first * new // rate
        return audio.resample(span, rate, new)[start - offset:start - offset + want]




class RawClips(Dataset):
    """Raw training items: one random crop from each of several named sources of audio files.

    Item i is `{name: crop}` for every source, in the order given. The first source is the one
    the epoch is counted on: item i crops its file i mod N. Every other source gives a crop of
    a random file. Sources are not mixed here; the task mixes them on the training device.

    Args:
        sources (dict[str, source]): name → a folder or a .txt/.csv file list (`list_audio`),
            e.g. `{"speech": ..., "noise": ...}`.
        sample_rate (int): the rate of the crops.
        segment_seconds (float): the length of a crop.
        items_per_epoch (int or None, optional): items in an epoch; None: the number of files
            of the first source. (Default: ``None``)
        tile (dict[str, bool] or None, optional): per source, whether a file shorter than a
            crop is repeated to fill it (else it is zero-padded). Sources not named keep the
            default: the first source (speech-like: silence after it is honest) zero-padded,
            every other one (noise-like: it should cover the whole crop) tiled.
            (Default: ``None``)
        paired (bool, optional): the sources are parts of the same recordings, file by file
            (the same file names and durations): item i crops the same file of every source at
            the same place, instead of a random file, and a short file is zero-padded in every
            source (tiling one part would no longer add up to the recording). (Default:
            ``False``)

    Items: `dict[str, Tensor]`, each crop `(time,)` with `time = int(segment_seconds *
    sample_rate)`; a DataLoader batches them to `(batch, time)`.
    """

    def __init__(self, sources: Mapping[str, object], sample_rate: int, segment_seconds: float,
                 items_per_epoch: int | None = None, tile: Mapping[str, bool] | None = None,
                 paired: bool = False):
        if not sources:
            raise DataError("a training set needs at least one source of audio files")
        unknown = set(tile or {}) - set(sources)
        if unknown:
            raise DataError(f"tile: no source named {sorted(unknown)[0]!r}; "
                            f"the sources are {list(sources)}")
        frames = int(segment_seconds * sample_rate)
        self.sample_rate = sample_rate
        self.clips = {name: Clips(src, sample_rate, frames) for name, src in sources.items()}
        self.first = next(iter(self.clips))
        self.tile = {name: (tile or {}).get(name, name != self.first) for name in self.clips}
        self.items = items_per_epoch or len(self.clips[self.first].files)
        self.paired = paired
        if paired:
            if tile and any(tile.values()):
                raise DataError("tile: paired sources are zero-padded alike, never tiled")
            self.tile = dict.fromkeys(self.clips, False)
            first = self.clips[self.first]
            for name, c in self.clips.items():
                if [f.name for f in c.files] != [f.name for f in first.files]:
                    raise DataError(f"paired sources: {sources[name]} and {sources[self.first]} "
                                    "do not hold the same file names")
                for k, f in enumerate(c.files):
                    if c.lengths[k] * first.rates[k] != first.lengths[k] * c.rates[k]:
                        raise DataError(f"paired sources: {f} and {first.files[k]} differ in "
                                        "duration")

    def __len__(self) -> int:
        return self.items

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if self.paired:
            k = i % len(self.clips[self.first].files)
            start = self.clips[self.first].draw_start(k)
            return {name: c.crop(k, tile=self.tile[name], start=start)
                    for name, c in self.clips.items()}
        # the other sources' files are drawn before any crop (noise file, speech crop, noise
        # crop): the order of earlier versions, so a seed gives the same items as it did
        picks = {name: int(torch.randint(0, len(c.files), (1,)))
                 for name, c in self.clips.items() if name != self.first}
        picks[self.first] = i % len(self.clips[self.first].files)
        return {name: c.crop(picks[name], tile=self.tile[name]) for name, c in self.clips.items()}


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
