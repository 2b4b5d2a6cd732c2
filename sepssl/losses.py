"""Losses and metrics over tensors: SI-SDR, SNR with a soft cap, and PIT through asteroid.

Pure functions, batched over leading axes, device-agnostic. Time is the last axis.
"""
from __future__ import annotations

import torch

EPS = 1e-8


def si_sdr(est: torch.Tensor, ref: torch.Tensor, zero_mean: bool = True, eps: float = EPS
           ) -> torch.Tensor:
    """Scale-invariant SDR in dB over the last axis (higher is better)."""
    if zero_mean:
        est = est - est.mean(-1, keepdim=True)
        ref = ref - ref.mean(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps)
    target = alpha * ref
    noise = est - target
    return 10 * torch.log10((target.pow(2).sum(-1) + eps) / (noise.pow(2).sum(-1) + eps))


def snr(est: torch.Tensor, ref: torch.Tensor, soft_cap_db: float | None = None,
        eps: float = EPS) -> torch.Tensor:
    """SNR in dB over the last axis; with `soft_cap_db`, `10·log10(‖y‖² / (‖y−ŷ‖² + τ‖y‖²))`.

    The soft cap τ = 10^(−cap/10) stops already well-estimated examples from dominating the
    gradient (MixIT's loss uses a 30 dB cap).
    """
    ref_pow = ref.pow(2).sum(-1)
    err_pow = (ref - est).pow(2).sum(-1)
    if soft_cap_db is not None:
        err_pow = err_pow + 10 ** (-soft_cap_db / 10) * ref_pow
    return 10 * torch.log10((ref_pow + eps) / (err_pow + eps))


def neg_si_sdr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Mean negative SI-SDR: a loss."""
    return -si_sdr(est, ref).mean()


def neg_snr(est: torch.Tensor, ref: torch.Tensor, soft_cap_db: float | None = None) -> torch.Tensor:
    """Mean negative SNR: a loss that, unlike SI-SDR, also asks for the right scale."""
    return -snr(est, ref, soft_cap_db=soft_cap_db).mean()
