"""On-device mixing: the batched tensor programs tasks use to build (input, target) pairs.

Hand-written because no library offers batched, device-side SNR mixing with per-example SNRs;
every function works on whole batches without Python loops over examples.
"""
from __future__ import annotations

import torch

EPS = 1e-8


def power(x: torch.Tensor) -> torch.Tensor:
    """Mean power over the last axis, keeping it for broadcasting."""
    return x.pow(2).mean(-1, keepdim=True)


def scale_to_snr(signal: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    """Noise rescaled so that `signal` / it has `snr_db` (one SNR per example, shape `(batch,)`)."""
    snr_db = torch.as_tensor(snr_db, dtype=signal.dtype, device=signal.device)
    snr_db = snr_db.reshape(snr_db.shape + (1,) * (signal.dim() - snr_db.dim()))
    gain = torch.sqrt(power(signal) / (power(noise) + EPS) / 10 ** (snr_db / 10))
    return noise * gain


def mix_at_snr(signal: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """`(signal + scaled noise, scaled noise)` at the given per-example SNRs."""
    scaled = scale_to_snr(signal, noise, snr_db)
    return signal + scaled, scaled


def uniform(batch: int, low: float, high: float, like: torch.Tensor,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-example values drawn uniformly in [low, high) on `like`'s device."""
    u = torch.rand(batch, generator=generator, device=like.device if generator is None
                   else generator.device, dtype=like.dtype)
    return (low + (high - low) * u).to(like.device)


def random_gain_db(x: torch.Tensor, low_db: float, high_db: float,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Each example scaled by a random gain in dB: level augmentation, so models see any level."""
    gain_db = uniform(x.shape[0], low_db, high_db, x, generator)
    return x * (10 ** (gain_db / 20)).reshape(-1, *([1] * (x.dim() - 1)))


def peak_normalize(*signals: torch.Tensor, peak: float = 0.99) -> tuple[torch.Tensor, ...]:
    """Scale every signal of an example by one gain so that none of them clips."""
    top = torch.stack([s.abs().flatten(1).amax(1) for s in signals]).amax(0)
    gain = torch.clamp(peak / (top + EPS), max=1.0).reshape(-1, *([1] * (signals[0].dim() - 1)))
    return tuple(s * gain.reshape(-1, *([1] * (s.dim() - 1))) for s in signals)


def mixture_consistency(est: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
    """Project `(batch, sources, time)` estimates so they sum to the `(batch, time)` mixture
    (equal share of the residual per source, Wisdom et al. 2019)."""
    residual = mixture - est.sum(1)
    return est + residual.unsqueeze(1) / est.shape[1]


def limit_attenuation(enhanced: torch.Tensor, noisy: torch.Tensor,
                      limit_db: float | None) -> torch.Tensor:
    """Mix the input back under the enhanced signal so nothing is attenuated by more than
    `limit_db` dB: `g·noisy + (1 − g)·enhanced`, `g = 10^(−limit_db/20)` (None: `enhanced`).

    Where a model over-suppresses (quiet speech taken for noise), the mixed-back input restores
    it; where the model is right, the noise comes back only at −limit_db. Works for any model.
    """
    if limit_db is None:
        return enhanced
    if not limit_db > 0:
        raise ValueError(f"attenuation limit must be a positive number of dB, got {limit_db}")
    g = 10 ** (-limit_db / 20)
    return g * noisy + (1 - g) * enhanced


def mixture_of_mixtures(mixtures: torch.Tensor) -> torch.Tensor:
    """MixIT's input: the sum of the `(batch, n_mix, time)` reference mixtures."""
    return mixtures.sum(1)


def remix(est: torch.Tensor, to_first: torch.Tensor) -> torch.Tensor:
    """Binary remix of `(batch, M, time)` outputs onto two mixtures: `to_first` `(batch, M)`
    bool says which outputs sum into mixture 0; the rest sum into mixture 1."""
    a = to_first.to(est.dtype)
    return torch.stack([a, 1 - a], 1) @ est
