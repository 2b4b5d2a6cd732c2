"""On-device mixing: the batched tensor programs tasks use to build (input, target) pairs.

Hand-written because no library offers batched, device-side SNR mixing with per-example SNRs;
every function works on whole batches without Python loops over examples.
"""
from __future__ import annotations

import torch

EPS = 1e-8


def power(x: torch.Tensor) -> torch.Tensor:
    """Mean power over the last axis, kept as a size-1 axis for broadcasting.

    Args:
        x (torch.Tensor): Signal, shape `(..., time)`.

    Returns:
        torch.Tensor: Mean square, shape `(..., 1)`.
    """
    return x.pow(2).mean(-1, keepdim=True)


def scale_to_snr(signal: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    """Rescale noise so that the signal-to-noise ratio is `snr_db` for each example.

    Args:
        signal (torch.Tensor): Signal, shape `(batch, ..., time)`.
        noise (torch.Tensor): Noise, same shape as `signal`.
        snr_db (torch.Tensor): Target SNR in dB, shape `(batch,)` (or a scalar).

    Returns:
        torch.Tensor: Scaled noise, same shape as `noise`.
    """
    snr_db = torch.as_tensor(snr_db, dtype=signal.dtype, device=signal.device)
    snr_db = snr_db.reshape(snr_db.shape + (1,) * (signal.dim() - snr_db.dim()))
    gain = torch.sqrt(power(signal) / (power(noise) + EPS) / 10 ** (snr_db / 10))
    return noise * gain


def mix_at_snr(signal: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix signal and noise at per-example SNRs.

    Args:
        signal (torch.Tensor): Signal, shape `(batch, ..., time)`.
        noise (torch.Tensor): Noise, same shape as `signal`.
        snr_db (torch.Tensor): SNR in dB, shape `(batch,)` (or a scalar).

    Returns:
        (torch.Tensor, torch.Tensor): The mixture `signal + scaled noise` and the scaled noise,
        both shaped like `signal`.
    """
    scaled = scale_to_snr(signal, noise, snr_db)
    return signal + scaled, scaled


def uniform(batch: int, low: float, high: float, like: torch.Tensor,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-example values drawn uniformly in [low, high).

    Args:
        batch (int): Number of values.
        low (float): Lower bound.
        high (float): Upper bound (excluded).
        like (torch.Tensor): Tensor whose device and dtype the result takes.
        generator (torch.Generator or None, optional): Random generator; the values are drawn
            on its device, then moved to `like`'s.

    Returns:
        torch.Tensor: Values, shape `(batch,)`.
    """
    u = torch.rand(batch, generator=generator, device=like.device if generator is None
                   else generator.device, dtype=like.dtype)
    return (low + (high - low) * u).to(like.device)


def random_gain_db(x: torch.Tensor, low_db: float, high_db: float,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale each example by a random gain: level augmentation, so models see any level.

    Args:
        x (torch.Tensor): Signals, shape `(batch, ...)`.
        low_db (float): Lowest gain in dB.
        high_db (float): Highest gain in dB.
        generator (torch.Generator or None, optional): Random generator.

    Returns:
        torch.Tensor: Scaled signals, same shape as `x`.
    """
    gain_db = uniform(x.shape[0], low_db, high_db, x, generator)
    return x * (10 ** (gain_db / 20)).reshape(-1, *([1] * (x.dim() - 1)))


def peak_normalize(*signals: torch.Tensor, peak: float = 0.99) -> tuple[torch.Tensor, ...]:
    """Scale all signals of an example by one gain so that none of them clips.

    Examples already below `peak` are left as they are (the gain is at most 1), and one gain per
    example keeps the SNR between its signals.

    Args:
        *signals (torch.Tensor): Signals of shape `(batch, ...)`, same batch size.
        peak (float, optional): Largest allowed absolute sample value. (Default: ``0.99``)

    Returns:
        tuple[torch.Tensor, ...]: The scaled signals, in the order given.
    """
    top = torch.stack([s.abs().flatten(1).amax(1) for s in signals]).amax(0)
    gain = torch.clamp(peak / (top + EPS), max=1.0).reshape(-1, *([1] * (signals[0].dim() - 1)))
    return tuple(s * gain.reshape(-1, *([1] * (s.dim() - 1))) for s in signals)


def mixture_consistency(est: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
    """Project source estimates so that they sum to the mixture (Wisdom et al. 2019).

    Each source receives an equal share of the residual.

    Args:
        est (torch.Tensor): Source estimates, shape `(batch, sources, time)`.
        mixture (torch.Tensor): Mixture, shape `(batch, time)`.

    Returns:
        torch.Tensor: Projected estimates, shape `(batch, sources, time)`.
    """
    residual = mixture - est.sum(1)
    return est + residual.unsqueeze(1) / est.shape[1]


def limit_attenuation(enhanced: torch.Tensor, noisy: torch.Tensor,
                      limit_db: float | None) -> torch.Tensor:
    """Mix the input back under the enhanced signal so that nothing is attenuated by more than
    `limit_db` dB: `g·noisy + (1 − g)·enhanced`, `g = 10^(−limit_db/20)`.

    Where a model over-suppresses (quiet speech taken for noise), the mixed-back input restores
    it; where the model is right, the noise comes back only at −limit_db. Works for any model.

    Args:
        enhanced (torch.Tensor): Model output, shape `(..., time)`.
        noisy (torch.Tensor): Model input, same shape.
        limit_db (float or None): Largest attenuation in dB; ``None`` returns `enhanced`.

    Returns:
        torch.Tensor: Limited output, same shape as `enhanced`.

    Raises:
        ValueError: If `limit_db` is not a positive number.
    """
    if limit_db is None:
        return enhanced
    if not limit_db > 0:
        raise ValueError(f"attenuation limit must be a positive number of dB, got {limit_db}")
    g = 10 ** (-limit_db / 20)
    return g * noisy + (1 - g) * enhanced


def mixture_of_mixtures(mixtures: torch.Tensor) -> torch.Tensor:
    """MixIT's input: the sum of the reference mixtures.

    Args:
        mixtures (torch.Tensor): Reference mixtures, shape `(batch, n_mix, time)`.

    Returns:
        torch.Tensor: Mixture of mixtures, shape `(batch, time)`.
    """
    return mixtures.sum(1)


def remix(est: torch.Tensor, to_first: torch.Tensor) -> torch.Tensor:
    """Binary remix of outputs onto two mixtures.

    Args:
        est (torch.Tensor): Outputs, shape `(batch, M, time)`.
        to_first (torch.Tensor): Bool, shape `(batch, M)`: True sends an output to mixture 0,
            False to mixture 1.

    Returns:
        torch.Tensor: The two remixes, shape `(batch, 2, time)`.
    """
    a = to_first.to(est.dtype)
    return torch.stack([a, 1 - a], 1) @ est
