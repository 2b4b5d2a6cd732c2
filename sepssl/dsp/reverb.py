"""Reverberation on the device: a batch convolved with room impulse responses by FFT, one room
per example, aligned to each room's direct path.

Why hand-written: `torchaudio.functional.fftconvolve` convolves, but the corpus's convention
(the dry reference stays time-aligned with the direct path, `sepssl.data.rooms`) needs each
example's output advanced by its own room's direct-path delay; that is a gather after one
batched FFT product, done here.
"""
from __future__ import annotations

import torch


def reverberate(x: torch.Tensor, rirs: torch.Tensor, direct: torch.Tensor) -> torch.Tensor:
    """Each example through its room.

    Args:
        x: dry signals `(batch, time)`.
        rirs: one impulse response per example `(batch, taps)`, zero-padded to one length.
        direct: index of each response's direct-path peak `(batch,)`, long.

    Returns:
        The reverberant signals `(batch, time)`, shifted so that the direct path lines up
        with `x` (its tail past `time` is dropped).
    """
    b, n = x.shape
    size = n + rirs.shape[1] - 1
    wet = torch.fft.irfft(torch.fft.rfft(x, n=size) * torch.fft.rfft(rirs.to(x.dtype), n=size),
                          n=size)
    index = direct[:, None] + torch.arange(n, device=x.device)[None]
    return wet.gather(1, index)
