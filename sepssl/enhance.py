"""Inference on signals, files and folders.

One streaming core serves the CLI, the Python API and the tests: the input is read in
overlapping chunks, each chunk is resampled to the model's rate, enhanced, resampled back and
cross-faded into the output (`dsp.overlap_add`), which is written as it is produced. Memory does
not grow with the file's length; the output has the input's rate, length, channels and subtype.
"""
from __future__ import annotations

import glob
import itertools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import torch

from . import audio
from .dsp import mixing
from .dsp.overlap_add import chunk_starts, overlap_add
from .errors import AudioError, SepsslError

DEFAULT_CHUNK_SECONDS = 10.0
#: `atten_lim_db` value meaning "the model file's own setting" (None for models it does not set).
MODEL_SETTING = "model"
MAX_OVERLAP_SECONDS = 1.0


def _overlap(chunk: int, rate: int) -> int:
    return min(int(MAX_OVERLAP_SECONDS * rate), chunk // 4)


@torch.no_grad()
def enhance_stream(model: torch.nn.Module, read: Callable[[int, int], torch.Tensor], length: int,
                   sample_rate: int, chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                   batch_chunks: int = 8, atten_lim_db: float | str | None = MODEL_SETTING
                   ) -> Iterator[torch.Tensor]:
    """Enhanced pieces of a signal of `length` frames given by `read(start, n)`.

    Up to `batch_chunks` chunks go through the model as one batch: a recurrent model at batch 1
    is step-overhead bound, so batching chunks is several times faster at the same memory bound.

    Args:
        model (torch.nn.Module): an enhancer (`sample_rate` attribute; `(batch, time)` in and out).
        read (Callable[[int, int], Tensor]): `read(start, n)` gives up to `n` frames from `start`
            as `(channels, frames)`; fewer is a short read and is read on from where it stopped.
        length (int): frames in the signal.
        sample_rate (int): the signal's rate (the model's input is resampled to its own).
        chunk_seconds (float, optional): the length of a chunk. (Default: ``10.0``)
        batch_chunks (int, optional): chunks per model call. (Default: ``8``)
        atten_lim_db (float, str or None, optional): mix the input back so nothing is
            attenuated by more than that many dB (`dsp.mixing.limit_attenuation`, at the
            input's own rate); None: the model's output as is; "model": the model's own
            `atten_lim_db` (the shipped default model sets one). (Default: ``"model"``)

    Returns:
        Iterator[Tensor]: float32 `(channels, n)` pieces on the CPU; concatenated along time
        they are `(channels, length)`, aligned with the input.

    Raises:
        AudioError: `read` returns no frames before `length` frames were read.
    """
    if atten_lim_db == MODEL_SETTING:
        atten_lim_db = getattr(model, "atten_lim_db", None)
    chunk = max(int(chunk_seconds * sample_rate), 1)
    overlap = _overlap(chunk, sample_rate)
    device = next(model.parameters()).device
    starts = chunk_starts(length, chunk, overlap)

    def processed() -> Iterator[torch.Tensor]:
        for i in range(0, len(starts), batch_chunks):
            group = [_read_exactly(read, s, min(chunk, length - s), length)
                     for s in starts[i:i + batch_chunks]]
            # runs of equal length go through the model together: all full chunks, then the
            # shorter last one alone (no padding)
            for _, run in itertools.groupby(group, key=lambda b: b.shape[-1]):
                yield from _enhance_blocks(model, list(run), sample_rate, device, atten_lim_db)

    yield from overlap_add(processed(), overlap)


def _read_exactly(read: Callable[[int, int], torch.Tensor], start: int, n: int,
                  length: int) -> torch.Tensor:
    """`n` frames from `start`, however few frames each `read` call returns (a short read is not
    the end); AudioError if the input ends before the `length` frames it was said to have."""
    blocks, got = [], 0
    while got < n:
        block = read(start + got, n - got)[..., : n - got]
        if block.shape[-1] == 0:
            raise AudioError(f"the audio ends after {start + got} of the {length} frames its "
                             "header gives (a truncated file?)")
        blocks.append(block)
        got += block.shape[-1]
    return blocks[0] if len(blocks) == 1 else torch.cat(blocks, dim=-1)


def _enhance_blocks(model, blocks: list[torch.Tensor], rate: int, device,
                    atten_lim_db: float | None = None) -> list[torch.Tensor]:
    """Equal-length `(channels, n)` blocks through the model at once (chunks × channels = batch)."""
    channels, n = blocks[0].shape
    x = torch.cat(blocks).to(device)
    y = audio.resample(model(audio.resample(x, rate, model.sample_rate)), model.sample_rate, rate)
    y = torch.nn.functional.pad(y, (0, max(0, n - y.shape[-1])))[..., :n]
    y = mixing.limit_attenuation(y, x.to(y.dtype), atten_lim_db).float().cpu()
    return list(y.split(channels))


def enhance_signal(model, wav: torch.Tensor, sample_rate: int,
                   chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                   atten_lim_db: float | str | None = MODEL_SETTING) -> torch.Tensor:
    """Enhance an in-memory `(channels, time)` tensor; returns the same shape and rate."""
    audio.validate(wav)
    pieces = enhance_stream(model, lambda s, n: wav[:, s:s + n], wav.shape[-1], sample_rate,
                            chunk_seconds, atten_lim_db=atten_lim_db)
    return torch.cat(list(pieces), dim=-1)


def enhance_file(model, src: str | os.PathLike, dst: str | os.PathLike,
                 chunk_seconds: float = DEFAULT_CHUNK_SECONDS, subtype: str | None = None,
                 on_progress: Callable[[float], None] | None = None,
                 atten_lim_db: float | str | None = MODEL_SETTING) -> Path:
    """Enhance one file into `dst` (atomic; nothing is left at `dst` if it fails)."""
    with audio.Reader(src) as reader:
        meta = reader.info
        with audio.atomic_writer(dst, meta.sample_rate, meta.channels,
                                 subtype=subtype or meta.subtype, format=meta.format) as out:
            try:
                for piece in enhance_stream(model, reader.read, meta.frames, meta.sample_rate,
                                            chunk_seconds, atten_lim_db=atten_lim_db):
                    audio.write_block(out, piece)
                    if on_progress:
                        on_progress(piece.shape[-1] / meta.sample_rate)
            except AudioError as exc:
                if str(meta.path) in str(exc):
                    raise
                raise AudioError(f"{meta.path}: {exc}") from None
            if reader.peak == 0.0:
                raise AudioError(f"{meta.path}: is all zeros (digital silence); nothing to enhance")
    return Path(dst)


@dataclass
class EnhanceReport:
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (input, one-line reason)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self, out_dir: Path) -> str:
        total = len(self.written) + len(self.failed)
        return (f"enhanced {len(self.written)} of {total} file(s) into {out_dir}"
                + (f"; {len(self.failed)} failed" if self.failed else ""))


def collect_inputs(inputs: list[str]) -> tuple[list[tuple[Path, Path]], list[tuple[str, str]]]:
    """Expand files, folders (recursively) and globs into (source, output path relative to OUTDIR)
    pairs, plus (input, reason) for inputs that name nothing usable."""
    jobs: list[tuple[Path, Path]] = []
    errors: list[tuple[str, str]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = audio.find_audio(path)
            if not found:
                errors.append((item, f"{item}: folder contains no audio files"))
            jobs += [(f, f.relative_to(path)) for f in found]
        elif path.exists():
            jobs.append((path, Path(path.name)))
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                errors.append((item, f"{item}: no files match this pattern"))
            jobs += [(m, Path(m.name)) for m in files]
        else:
            errors.append((item, f"{item}: no such file or directory"))
    return jobs, errors


def enhance_paths(model, inputs: list[str], out_dir: str | os.PathLike,
                  chunk_seconds: float = DEFAULT_CHUNK_SECONDS, subtype: str | None = None,
                  progress: bool = True, log: Callable[[str], None] | None = None,
                  atten_lim_db: float | str | None = MODEL_SETTING) -> EnhanceReport:
    """Enhance files, folders and globs into `out_dir`; a bad file is reported and skipped."""
    from tqdm import tqdm

    log = log or logging.getLogger("sepssl").warning
    out_dir = Path(out_dir)
    jobs, errors = collect_inputs(inputs)
    report = EnhanceReport(failed=list(errors))
    for _, reason in errors:
        log(f"error: {reason}")
    sources = {src.resolve() for src, _ in jobs}
    planned: dict[Path, Path] = {}
    seconds = {}
    for src, _ in jobs:
        try:
            seconds[src] = audio.info(src).seconds
        except SepsslError:
            seconds[src] = 0.0
    bar = tqdm(total=sum(seconds.values()), unit="s", desc="enhancing",
               disable=not progress, dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}{postfix}]")
    for i, (src, rel) in enumerate(jobs):
        bar.set_postfix_str(f"file {i + 1}/{len(jobs)}")
        dst = out_dir / rel
        done = 0.0
        try:
            target = dst.resolve()
            if target in sources:
                raise AudioError(f"{src}: refusing to write over an input file ({dst}); "
                                 "choose another output folder")
            if target in planned:
                raise AudioError(f"{src}: output {dst} would also be written from "
                                 f"{planned[target]}; enhance them into separate folders")
            planned[target] = src

            def step(s: float) -> None:
                nonlocal done
                done += s
                bar.update(s)

            enhance_file(model, src, dst, chunk_seconds, subtype, on_progress=step,
                         atten_lim_db=atten_lim_db)
            report.written.append(dst)
        except SepsslError as exc:
            report.failed.append((str(src), str(exc)))
            bar.write(f"error: {exc}") if progress else log(f"error: {exc}")
        except Exception as exc:  # a library error on one file must not stop the batch
            msg = f"{src}: failed ({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''})"
            report.failed.append((str(src), msg))
            bar.write(f"error: {msg}") if progress else log(f"error: {msg}")
        bar.update(max(0.0, seconds[src] - done))
    bar.close()
    return report
