"""The whole training set in device memory: random crops drawn there, batched, every step.

On a GPU the DataLoader path (`RawClips`: a file read and a crop per item, in worker
processes) cannot keep up with large batches; here every source's files are decoded once, at the
model's rate, into one int16 tensor on the training device, and each batch is one gather of
`batch × frames` samples (random file, random start; the first source zero-padded past a file's
end, the others tiled, as `RawClips` does). The task then mixes on the same device as always.
Two hours of 16 kHz audio take about 230 MB. Written here because no library draws batched
crops from device-resident audio of unequal lengths.
"""
from __future__ import annotations

import os

import torch
from torch.utils.data import IterableDataset

from .. import audio
from ..errors import DataError
from .datasets import list_audio

PCM = 32768.0


class ResidentSource:
    """One source's files, mono, concatenated as int16 on `device`, with their offsets.

    Args:
        source: a folder or file list (`list_audio`).
        sample_rate: the rate to decode at.
        device: where the samples live.
    """

    def __init__(self, source: str | os.PathLike, sample_rate: int, device: torch.device | str):
        files = list_audio(source)
        pieces = []
        for f in files:
            wav, _ = audio.read(f, sample_rate, check=False)
            pieces.append((torch.nan_to_num(wav.mean(0)).clamp(-1, 1) * (PCM - 1)).round()
                          .to(torch.int16))
        if not any(p.numel() for p in pieces):
            raise DataError(f"{source}: holds no samples")
        lengths = torch.tensor([p.numel() for p in pieces])
        self.files = files
        self.samples = torch.cat(pieces).to(device)
        self.lengths = lengths.to(device)
        self.offsets = (torch.cumsum(lengths, 0) - lengths).to(device)

    def crops(self, which: torch.Tensor, frames: int, tile: bool,
              generator: torch.Generator) -> torch.Tensor:
        """Random `frames`-long crops of the files `which` `(batch,)`, as float `(batch, frames)`."""
        length = self.lengths[which]
        room = (length - frames).clamp(min=0)
        start = (torch.rand(which.shape, generator=generator, device=length.device)
                 * (room + 1)).long().clamp(max=room)
        pos = start[:, None] + torch.arange(frames, device=length.device)[None]
        if tile:
            pos = pos % length.clamp(min=1)[:, None]
            keep = None
        else:
            keep = pos < length[:, None]
            pos = torch.minimum(pos, (length - 1).clamp(min=0)[:, None])
        out = self.samples[self.offsets[which][:, None] + pos].float() / PCM
        return out if keep is None else out * keep


class ResidentClips(IterableDataset):
    """Endless batches `{name: (batch, frames)}` drawn from device-resident sources.

    Args:
        sources: name → folder or file list, in order; the first is zero-padded, the others
            tiled (like `RawClips`).
        sample_rate: the model's rate.
        segment_seconds: crop length.
        batch_size: crops per batch.
        device: the training device.
        seed: seeds the draws (one generator on `device`).
    """

    def __init__(self, sources: dict, sample_rate: int, segment_seconds: float, batch_size: int,
                 device: torch.device | str = "cpu", seed: int = 0):
        super().__init__()
        if not sources:
            raise DataError("resident data: no sources given")
        self.device = torch.device(device)
        self.sources = {name: ResidentSource(src, sample_rate, self.device)
                        for name, src in sources.items()}
        self.first = next(iter(self.sources))
        self.frames = int(segment_seconds * sample_rate)
        self.batch_size, self.seed = batch_size, seed

    def batch(self, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """One batch: a random file of every source per example, a random crop of each."""
        out = {}
        for name, src in self.sources.items():
            which = torch.randint(0, len(src.files), (self.batch_size,), generator=generator,
                                  device=self.device)
            out[name] = src.crops(which, self.frames, tile=name != self.first,
                                  generator=generator)
        return out

    def __iter__(self):
        generator = torch.Generator(self.device).manual_seed(self.seed)
        while True:
            yield self.batch(generator)
