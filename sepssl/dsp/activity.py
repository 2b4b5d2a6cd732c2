"""Where a recording has no speech, told by an enhancer's output: noise mined from pauses.

A user with only noisy recordings has no noise-only clips, but every recording has pauses. An
enhancer's speech estimate ŝ of a recording y says where they are: a frame whose estimate keeps
less than `threshold_db` of the recording's power there (ŝ's power over y's) holds no speech
the enhancer could find. Speech frames are widened by `guard_seconds` on both sides (weak onsets
and trailing consonants), and only runs of at least `min_seconds` count. Hand-written: it is a
few tensor operations on frame powers, and a voice-activity library (webrtcvad, silero) would
judge the noisy recording, not what the enhancer already separated, and adds a dependency.
"""
from __future__ import annotations

import math

import torch

from .overlap_add import fade_in

EPS = 1e-10


def frame_power(wav: torch.Tensor, frame: int) -> torch.Tensor:
    """Mean power of non-overlapping `frame`-sample frames (a last partial frame included).

    Args:
        wav (torch.Tensor): Signal, shape `(time,)`.
        frame (int): Frame length in samples.

    Returns:
        torch.Tensor: Powers, shape `(ceil(time / frame),)`.
    """
    pad = -wav.shape[-1] % frame
    frames = torch.nn.functional.pad(wav, (0, pad)).reshape(-1, frame)
    return frames.square().mean(-1)


def speech_free(noisy: torch.Tensor, speech: torch.Tensor, sample_rate: int,
                threshold_db: float = -12.0, frame_seconds: float = 0.02,
                guard_seconds: float = 0.1, min_seconds: float = 0.25) -> torch.Tensor:
    """Which samples of `noisy` hold no speech, judged by the speech estimate `speech`.

    Args:
        noisy (torch.Tensor): The recording, shape `(time,)`.
        speech (torch.Tensor): An enhancer's speech estimate of it, same shape.
        sample_rate (int): Their rate, in Hz.
        threshold_db (float): A frame is speech-free when the estimate keeps less than this
            share of the recording's power in it (dB).
        frame_seconds (float): Frame length.
        guard_seconds (float): Speech frames are widened by this much on both sides.
        min_seconds (float): Shorter speech-free runs are dropped.

    Returns:
        torch.Tensor: Boolean mask, shape `(time,)`; True where no speech is.
    """
    frame = max(1, round(frame_seconds * sample_rate))
    ratio_db = 10 * torch.log10((frame_power(speech, frame) + EPS) / (frame_power(noisy, frame) + EPS))
    has_speech = (ratio_db >= threshold_db).float()
    widen = round(guard_seconds / frame_seconds)
    if widen > 0:
        has_speech = torch.nn.functional.max_pool1d(has_speech[None, None], 2 * widen + 1,
                                                    stride=1, padding=widen)[0, 0]
    free = has_speech < 0.5
    shortest = max(1, math.ceil(min_seconds / frame_seconds - 1e-9))
    for start, end in runs(free):
        if end - start < shortest:
            free[start:end] = False
    return free.repeat_interleave(frame)[: noisy.shape[-1]]


def runs(mask: torch.Tensor) -> list[tuple[int, int]]:
    """Where a mask is True, as runs.

    Args:
        mask (torch.Tensor): Boolean, shape `(time,)`.

    Returns:
        list[tuple[int, int]]: The `[start, end)` index ranges of its True runs, in order.
    """
    edges = torch.diff(mask.to(torch.int8), prepend=mask.new_zeros(1, dtype=torch.int8),
                       append=mask.new_zeros(1, dtype=torch.int8))
    starts = torch.nonzero(edges == 1).flatten().tolist()
    ends = torch.nonzero(edges == -1).flatten().tolist()
    return list(zip(starts, ends))


def join_stretches(wav: torch.Tensor, mask: torch.Tensor, fade: int) -> torch.Tensor:
    """The runs of `wav` where `mask` is True, joined end to end with `fade`-sample sin²
    crossfades (shorter for short runs), so that the joins neither click nor dip to silence.

    Args:
        wav (torch.Tensor): Signal, shape `(time,)`.
        mask (torch.Tensor): Boolean, shape `(time,)`.
        fade (int): Crossfade length in samples.

    Returns:
        torch.Tensor: Shape `(time',)`: the masked samples less the crossfades' overlaps;
            empty when the mask is all False.
    """
    out = wav.new_zeros(0)
    for start, end in runs(mask):
        piece = wav[start:end]
        n = min(fade, out.shape[-1] // 2, piece.shape[-1] // 2)
        if n < 1:
            out = torch.cat([out, piece])
            continue
        ramp = fade_in(n, wav)
        middle = out[-n:] * (1 - ramp) + piece[:n] * ramp
        out = torch.cat([out[:-n], middle, piece[n:]])
    return out
