"""The upper band of a full-band input, gained by what a narrow-band enhancer did to its top.

A 16 kHz model sees nothing above 8 kHz. For a 44.1 / 48 kHz input, the part its band cannot
carry (the input minus the input through the model's rate and back) is kept and multiplied,
frame by frame, by the gain the model applied to the top of its own band (the output's power
over the input's power there, at most 1). Speech frames the model keeps keep their air and
fricatives; noise the model removes is removed above its band too. The same idea extends
narrow-band enhancers to full band elsewhere; it needs only the model's input and output, so it
works for every model. Hand-written: no library offers it.
"""
from __future__ import annotations

import torch

from .stft import istft, stft

EPS = 1e-10


def band_gains(noisy: torch.Tensor, enhanced: torch.Tensor, sample_rate: int,
               band_hz: tuple[float, float], n_fft: int = 512, hop: int = 128) -> torch.Tensor:
    """Per-frame amplitude gain of `enhanced` over `noisy` within `band_hz`, in [0, 1].

    Args:
        noisy (torch.Tensor): The model's input, shape `(..., time)`.
        enhanced (torch.Tensor): The model's output, same shape.
        sample_rate (int): Their rate, in Hz.
        band_hz (tuple[float, float]): The band the gain is measured in, in Hz.
        n_fft (int, optional): FFT size. (Default: ``512``)
        hop (int, optional): Hop between frames. (Default: ``128``)

    Returns:
        torch.Tensor: Gains, shape `(..., time // hop + 1)`.
    """
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, device=noisy.device)
    band = (freqs >= band_hz[0]) & (freqs <= band_hz[1])

    def band_power(x: torch.Tensor) -> torch.Tensor:
        spec = stft(x, n_fft, hop)[..., band, :]
        return (spec.real.square() + spec.imag.square()).sum(-2)

    return torch.sqrt(band_power(enhanced) / (band_power(noisy) + EPS)).clamp(max=1.0)


def gain_frames(signal: torch.Tensor, gains: torch.Tensor, gain_hop_seconds: float,
                sample_rate: int) -> torch.Tensor:
    """`signal` with each of its STFT frames scaled by the gain at that time.

    Args:
        signal (torch.Tensor): Signal, shape `(..., time)`.
        gains (torch.Tensor): Gains on frames `gain_hop_seconds` apart from time 0, shape
            `(..., frames)`; linearly interpolated to `signal`'s frames.
        gain_hop_seconds (float): Time between two gains, in seconds.
        sample_rate (int): `signal`'s rate, in Hz.

    Returns:
        torch.Tensor: Gained signal, same shape as `signal`.
    """
    hop = max(1, round(gain_hop_seconds * sample_rate))
    n_fft = 4 * hop
    spec = stft(signal, n_fft, hop)                                  # (..., F, N)
    lead, frames = gains.shape[:-1], spec.shape[-1]
    flat = gains.reshape(-1, 1, gains.shape[-1])
    # frame i of `spec` sits at i·hop samples; gain j at j·gain_hop_seconds
    times = torch.arange(frames, device=gains.device, dtype=gains.dtype) * hop / sample_rate
    pos = (times / gain_hop_seconds).clamp(max=gains.shape[-1] - 1)
    left = pos.floor().long()
    right = (left + 1).clamp(max=gains.shape[-1] - 1)
    frac = pos - left
    at = flat[..., left] * (1 - frac) + flat[..., right] * frac        # (B, 1, N)
    spec = spec * at.reshape(*lead, 1, frames).to(spec.real.dtype)
    return istft(spec, n_fft, hop, signal.shape[-1])


def extend_upper_band(noisy: torch.Tensor, noisy_low: torch.Tensor, enhanced_low: torch.Tensor,
                      rate: int, low_rate: int, resample, top_octave: float = 0.5) -> torch.Tensor:
    """The part of `noisy` above the model's band, gained like the top of the model's band.

    Args:
        noisy (torch.Tensor): The input at its own rate, shape `(..., time)`.
        noisy_low (torch.Tensor): The input at the model's rate (what the model saw).
        enhanced_low (torch.Tensor): The model's output at its rate, same shape as `noisy_low`.
        rate (int): The input's rate, above `low_rate`.
        low_rate (int): The model's rate.
        resample (Callable): `resample(x, from_rate, to_rate)`, the resampler the model's path
            uses (so the split is exact: `noisy` = back-resampled `noisy_low` + the upper band).
        top_octave (float, optional): The gain is measured from this fraction of the model's
            Nyquist frequency up to it. (Default: ``0.5``: 4–8 kHz for a 16 kHz model)

    Returns:
        torch.Tensor: The gained upper band, shape of `noisy`; add it to the output.
    """
    back = resample(noisy_low, low_rate, rate)
    back = torch.nn.functional.pad(back, (0, max(0, noisy.shape[-1] - back.shape[-1])))
    upper = noisy - back[..., : noisy.shape[-1]]
    nyquist = low_rate / 2
    hop = 128 * low_rate // 16000 or 1
    gains = band_gains(noisy_low, enhanced_low, low_rate, (top_octave * nyquist, nyquist),
                       n_fft=4 * hop, hop=hop)
    return gain_frames(upper, gains, hop / low_rate, rate)
