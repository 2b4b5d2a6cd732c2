"""Chunked streaming for long files: chunk boundaries and a raised-cosine cross-fade.

Hand-written because asteroid's `LambdaOverlapAdd` unfolds the whole signal in memory; here the
caller feeds processed chunks one at a time and gets finished output back as soon as it is final,
so memory stays flat for an hour-long file (at most one chunk is held).

Each chunk is weighted by a window that fades in over its first `overlap` samples (not the first
chunk) and out over its last `overlap` samples (not the last chunk), and the weighted sum is
divided by the sum of the windows. Up to half a chunk of overlap only two chunks meet anywhere
and their fades already sum to one, so this is a plain two-way cross-fade; above half a chunk
three or more chunks meet and the division keeps the result a weighted mean of them. Either way
an identity `process` returns the input exactly.
"""
from __future__ import annotations

import math
from typing import Iterable, Iterator

import torch


def chunk_starts(length: int, chunk: int, overlap: int) -> list[int]:
    """Start offsets of chunks that cover a signal, neighbours overlapping by `overlap` samples.

    Every chunk but the last is `chunk` samples long; the last one runs to the end of the signal
    and is longer than `overlap`, which is the layout `overlap_add` expects.

    Args:
        length (int): samples in the signal.
        chunk (int): samples in a chunk (> 0).
        overlap (int): samples shared by neighbouring chunks, in `[0, chunk)`.

    Returns:
        list[int]: increasing start offsets, the first 0, spaced `chunk - overlap` apart.
    """
    if not 0 <= overlap < chunk:
        raise ValueError(f"overlap ({overlap}) must be in [0, chunk={chunk})")
    hop = chunk - overlap
    starts = [0]
    while starts[-1] + chunk < length:
        starts.append(starts[-1] + hop)
    return starts


def fade_in(n: int, like: torch.Tensor) -> torch.Tensor:
    """sin² ramp from 0 to 1 over n samples; `1 - fade_in` (its mirror image) is the fade-out.

    Args:
        n (int): samples in the ramp.
        like (Tensor): gives the dtype and device of the result.

    Returns:
        Tensor: `(n,)`, strictly between 0 and 1.
    """
    t = (torch.arange(n, device=like.device, dtype=like.dtype) + 0.5) / max(n, 1)
    return torch.sin(0.5 * math.pi * t).square()


def overlap_add(chunks: Iterable[torch.Tensor], overlap: int) -> Iterator[torch.Tensor]:
    """Join processed chunks laid out by `chunk_starts`, cross-fading where they overlap.

    Chunk k starts where chunk k - 1 ends minus `overlap` samples, so every chunk but the last
    must be longer than `overlap` (as `chunk_starts` lays them out). Output is yielded as soon as
    no later chunk can change it; one chunk is held back to learn whether it is the last.

    Args:
        chunks (Iterable[Tensor]): processed chunks `(..., chunk_len)`, in order, with the same
            leading shape.
        overlap (int): samples shared by neighbouring chunks (>= 0).

    Returns:
        Iterator[Tensor]: finished pieces `(..., n)`; concatenated along the last axis they are
        as long as the signal the chunks were cut from.
    """
    if overlap < 0:
        raise ValueError(f"overlap ({overlap}) must be >= 0")
    acc = wsum = None   # weighted sum and sum of weights, from the first sample not yet yielded
    held = None         # the latest chunk, not yet added: its fade-out waits on the next chunk
    held_at = 0         # where `held` starts, relative to the start of `acc`
    first = True

    def add(y: torch.Tensor, at: int, head: bool, tail: bool) -> None:
        nonlocal acc, wsum
        n = y.shape[-1]
        w = torch.ones(n, dtype=y.dtype, device=y.device)
        o = min(overlap, n)
        if head and o:
            w[:o] = fade_in(o, y)
        if tail and o:
            w[n - o:] *= 1 - fade_in(o, y)
        end = at + n
        if acc is None:
            acc = y.new_zeros(y.shape[:-1] + (end,))
            wsum = y.new_zeros(end)
        elif acc.shape[-1] < end:
            grow = end - acc.shape[-1]
            acc = torch.nn.functional.pad(acc, (0, grow))
            wsum = torch.nn.functional.pad(wsum, (0, grow))
        acc[..., at:end] += y * w
        wsum[at:end] += w

    def take(n: int) -> torch.Tensor:
        nonlocal acc, wsum, held_at
        out = acc[..., :n] / wsum[:n]
        acc, wsum = acc[..., n:], wsum[n:]
        held_at -= n
        return out

    for y in chunks:
        if held is not None:
            if held.shape[-1] <= overlap:
                raise ValueError(f"a chunk of {held.shape[-1]} samples is followed by another; "
                                 f"every chunk but the last must be longer than the overlap "
                                 f"({overlap})")
            add(held, held_at, head=not first, tail=True)
            first = False
            held_at += held.shape[-1] - overlap   # where `y` starts
            if held_at:                           # before `y` no chunk is still to come
                yield take(held_at)
        held = y
    if held is not None:
        add(held, held_at, head=not first, tail=False)
        yield take(acc.shape[-1])
