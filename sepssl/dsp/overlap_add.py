"""Chunked streaming for long files: chunk boundaries and a raised-cosine cross-fade.

Hand-written because asteroid's `LambdaOverlapAdd` unfolds the whole signal in memory; here the
caller feeds processed chunks one at a time and gets finished output back as soon as it is final,
so memory stays flat for an hour-long file. The fades of neighbouring chunks sum to one, so an
identity `process` returns the input exactly.
"""
from __future__ import annotations

import math
from typing import Iterable, Iterator

import torch


def chunk_starts(length: int, chunk: int, overlap: int) -> list[int]:
    """Start offsets of chunks of `chunk` samples overlapping by `overlap` that cover `length`.

    Every chunk but the last is full; the last one reaches the end and is longer than `overlap`.
    """
    if not 0 <= overlap < chunk:
        raise ValueError(f"overlap ({overlap}) must be in [0, chunk={chunk})")
    hop = chunk - overlap
    starts = [0]
    while starts[-1] + chunk < length:
        starts.append(starts[-1] + hop)
    return starts


def fade_in(n: int, like: torch.Tensor) -> torch.Tensor:
    """sin² ramp from 0 to 1 over n samples; `1 - fade_in` is the matching fade-out."""
    t = (torch.arange(n, device=like.device, dtype=like.dtype) + 0.5) / max(n, 1)
    return torch.sin(0.5 * math.pi * t).square()


def overlap_add(chunks: Iterable[torch.Tensor], overlap: int) -> Iterator[torch.Tensor]:
    """Join processed chunks `(..., chunk_len)` laid out by `chunk_starts`; yields finished pieces.

    Concatenating the yielded pieces gives a signal as long as the input.
    """
    tail = None
    for y in chunks:
        if tail is not None:
            o = tail.shape[-1]
            w = fade_in(o, y)
            yield tail * (1 - w) + y[..., :o] * w
            y = y[..., o:]
        if y.shape[-1] > overlap:
            if overlap:
                yield y[..., : y.shape[-1] - overlap]
                tail = y[..., y.shape[-1] - overlap:]
            else:
                yield y
                tail = None
        else:
            tail = y
    if tail is not None:
        yield tail
