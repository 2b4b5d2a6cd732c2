"""STFT / iSTFT pair and masking on torch.stft (perfect reconstruction with a Hann window,
hop ≤ n_fft/2, centred frames). Time is the last axis; leading axes are batch axes.

Thin wrappers rather than a library filterbank: they fix the window and centring once so that
analysis and synthesis always match, and accept any number of leading axes. asteroid's STFTFB
filterbank, the obvious alternative, does not reconstruct the signal's edges unless the caller
pads (compared in metrics/README.md).
"""
from __future__ import annotations

import torch


def _window(n_fft: int, like: torch.Tensor) -> torch.Tensor:
    dtype = like.real.dtype if like.is_complex() else like.dtype
    return torch.hann_window(n_fft, device=like.device, dtype=dtype)


def stft(wav: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """Complex spectrogram with a Hann window and centred frames.

    Args:
        wav (torch.Tensor): Signal, shape `(..., time)`.
        n_fft (int): FFT size and window length, in samples.
        hop (int): Hop between frames, in samples (≤ n_fft / 2 for perfect reconstruction).

    Returns:
        torch.Tensor: Complex spectrogram, shape `(..., n_fft // 2 + 1, time // hop + 1)`.
    """
    lead = wav.shape[:-1]
    spec = torch.stft(wav.reshape(-1, wav.shape[-1]), n_fft, hop, window=_window(n_fft, wav),
                      center=True, return_complex=True)
    return spec.reshape(*lead, *spec.shape[-2:])


def istft(spec: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    """Inverse of `stft` (overlap-add with the same window).

    Args:
        spec (torch.Tensor): Complex spectrogram, shape `(..., n_fft // 2 + 1, frames)`.
        n_fft (int): FFT size used by `stft`, in samples.
        hop (int): Hop used by `stft`, in samples.
        length (int): Length of the output signal, in samples.

    Returns:
        torch.Tensor: Signal, shape `(..., length)`.
    """
    lead = spec.shape[:-2]
    wav = torch.istft(spec.reshape(-1, *spec.shape[-2:]), n_fft, hop, window=_window(n_fft, spec),
                      center=True, length=length)
    return wav.reshape(*lead, length)


def log_power(spec: torch.Tensor, floor: float = 1e-8) -> torch.Tensor:
    """Log power spectrum log(|X|² + floor): the compressed magnitude feature that mask
    estimators take as input.

    Args:
        spec (torch.Tensor): Complex spectrogram, any shape.
        floor (float, optional): Added to the power before the log. (Default: ``1e-8``)

    Returns:
        torch.Tensor: Real tensor of the same shape (natural log of power).
    """
    return torch.log(spec.real.square() + spec.imag.square() + floor)


def apply_mask(spec: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Apply a real-valued mask to a complex spectrogram, keeping the noisy phase.

    Args:
        spec (torch.Tensor): Complex spectrogram, shape `(..., freq, frames)`.
        mask (torch.Tensor): Real mask, broadcastable with `spec`.

    Returns:
        torch.Tensor: Masked complex spectrogram.
    """
    return spec * mask


def deep_filter(spec: torch.Tensor, coefs: torch.Tensor, lookahead: int) -> torch.Tensor:
    """Complex filtering of each bin over neighbouring frames (DeepFilterNet's "deep filter").

    A real mask can only scale a bin; a filter of K complex taps per bin and frame can also
    move its phase and use the correlation between overlapping frames, which is where a mask
    loses the most at low frequencies (harmonics a few bins wide, noise in the same bins).
    Frames outside the signal count as zero.

    Args:
        spec (torch.Tensor): Complex spectrogram, shape `(..., freq, frames)`.
        coefs (torch.Tensor): Complex taps, shape `(..., K, freq, frames)` (broadcastable on
            the leading axes with `spec`); tap `k` multiplies frame `n + k - (K - 1 - lookahead)`.
        lookahead (int): Taps on future frames, `0 ≤ lookahead < K`.

    Returns:
        torch.Tensor: Filtered spectrogram, shape `(..., freq, frames)`.
    """
    order = coefs.shape[-3]
    if not 0 <= lookahead < order:
        raise ValueError(f"lookahead {lookahead} must lie in [0, {order})")
    past = order - 1 - lookahead
    zeros = spec.new_zeros(*spec.shape[:-1], 1)
    padded = torch.cat([zeros.expand(*spec.shape[:-1], past), spec,
                        zeros.expand(*spec.shape[:-1], lookahead)], dim=-1)
    taps = padded.unfold(-1, order, 1)                       # (..., freq, frames, K)
    return (taps * coefs.movedim(-3, -1)).sum(-1)
