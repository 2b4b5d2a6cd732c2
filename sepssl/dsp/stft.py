"""STFT / iSTFT pair and masking on torch.stft (perfect reconstruction with a Hann window,
hop ≤ n_fft/2, centred frames). Time is the last axis; leading axes are batch axes."""
from __future__ import annotations

import torch


def _window(n_fft: int, like: torch.Tensor) -> torch.Tensor:
    dtype = like.real.dtype if like.is_complex() else like.dtype
    return torch.hann_window(n_fft, device=like.device, dtype=dtype)


def stft(wav: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """Complex spectrogram `(..., n_fft//2 + 1, frames)` of `(..., time)`."""
    lead = wav.shape[:-1]
    spec = torch.stft(wav.reshape(-1, wav.shape[-1]), n_fft, hop, window=_window(n_fft, wav),
                      center=True, return_complex=True)
    return spec.reshape(*lead, *spec.shape[-2:])


def istft(spec: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    """Inverse of `stft`: `(..., freq, frames)` → `(..., length)`."""
    lead = spec.shape[:-2]
    wav = torch.istft(spec.reshape(-1, *spec.shape[-2:]), n_fft, hop, window=_window(n_fft, spec),
                      center=True, length=length)
    return wav.reshape(*lead, length)


def log_power(spec: torch.Tensor, floor: float = 1e-8) -> torch.Tensor:
    """log(|X|² + floor): the compressed magnitude feature mask estimators see."""
    return torch.log(spec.real.square() + spec.imag.square() + floor)


def apply_mask(spec: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Real-valued mask on a complex spectrogram, keeping the noisy phase."""
    return spec * mask
