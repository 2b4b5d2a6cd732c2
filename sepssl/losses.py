"""Losses and metrics over tensors: SI-SDR, SNR with a soft cap, exact and efficient MixIT.

Pure functions, batched over leading axes, device-agnostic. Time is the last axis.

MixIT is written here rather than taken from asteroid because asteroid's `MixITLossWrapper`
evaluates the loss in the time domain once per each of the 2^M assignments in a Python loop
(seconds and gigabytes at M = 8, impossible at M = 16). Both SNR and SI-SDR of a sum of outputs
depend only on inner products, so `mixit` scores every assignment from the outputs' Gram matrix
and their products with the mixtures (computed once, in float64 against cancellation), then
evaluates the chosen remix in the time domain so values and gradients are the plain loss's.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import torch

from .dsp.mixing import remix

EPS = 1e-8


def si_sdr(est: torch.Tensor, ref: torch.Tensor, zero_mean: bool = True, eps: float = EPS
           ) -> torch.Tensor:
    """Scale-invariant SDR in dB over the last axis (higher is better); a silent estimate
    scores about −80 dB (the eps floor), never 0 dB."""
    if zero_mean:
        est = est - est.mean(-1, keepdim=True)
        ref = ref - ref.mean(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps)
    target = alpha * ref
    noise = est - target
    return 10 * torch.log10(target.pow(2).sum(-1) / (noise.pow(2).sum(-1) + eps) + eps)


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


# --- permutation-invariant scoring -----------------------------------------------------------

def pairwise_si_sdr(est: torch.Tensor, refs: torch.Tensor) -> torch.Tensor:
    """`(batch, refs, outputs)` SI-SDR of every output against every reference."""
    return si_sdr(est.unsqueeze(1), refs.unsqueeze(2))


def pit_si_sdr(est: torch.Tensor, refs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Best one-to-one matching of C references to M ≥ C outputs by mean SI-SDR.

    Returns the matched SI-SDR `(batch, C)` (differentiable: minus its mean is the PIT loss)
    and the chosen output of each reference `(batch, C)`. With M > C the unmatched outputs
    are ignored: how a MixIT model with spare outputs is scored on fewer sources.
    """
    n_refs, n_out = refs.shape[1], est.shape[1]
    if n_out < n_refs:
        raise ValueError(f"{n_out} outputs cannot match {n_refs} references")
    matrix = pairwise_si_sdr(est, refs)                                      # (B, C, M)
    perms = torch.tensor(list(itertools.permutations(range(n_out), n_refs)), device=est.device)
    scores = matrix[:, torch.arange(n_refs, device=est.device), perms]         # (B, P, C)
    best = scores.detach().mean(-1).argmax(-1)
    batch = torch.arange(est.shape[0], device=est.device)
    return scores[batch, best], perms[best]


# --- MixIT -------------------------------------------------------------------------------------

def binary_assignments(n_outputs: int, only_first: Sequence[int] = (),
                       device: torch.device | str | None = None) -> torch.Tensor:
    """All `(K, M)` bool assignments of M outputs to two mixtures (True: mixture 0), with the
    outputs in `only_first` always in mixture 0 (MixIT enhancement: speech outputs may not
    explain the noise-only mixture). K = 2^(M − len(only_first))."""
    if not 1 <= n_outputs <= 24:
        raise ValueError(f"exact MixIT enumerates 2^M assignments; M={n_outputs} is out of range")
    free = [m for m in range(n_outputs) if m not in set(only_first)]
    codes = torch.arange(2 ** len(free), device=device)
    bits = (codes[:, None] >> torch.arange(len(free), device=device)) & 1
    table = torch.ones(codes.numel(), n_outputs, dtype=torch.bool, device=device)
    table[:, free] = bits.bool()
    return table


def _mixit_scores(est: torch.Tensor, mixtures: torch.Tensor, table: torch.Tensor, loss: str,
                  soft_cap_db: float | None) -> torch.Tensor:
    """`(batch, K)` loss of every assignment in `table`, from inner products only."""
    s, y = est.double(), mixtures.double()
    if loss == "si_sdr":  # zero-mean, as `si_sdr` does; linear, so remixes stay zero-mean
        s, y = s - s.mean(-1, keepdim=True), y - y.mean(-1, keepdim=True)
    gram = s @ s.transpose(1, 2)                       # (B, M, M)
    cross = s @ y.transpose(1, 2)                      # (B, M, 2)
    energy = y.pow(2).sum(-1)                          # (B, 2)
    a = table.to(gram.dtype)                           # (K, M)
    quad = torch.einsum("km,bmn,kn->bk", a, gram, a)   # ‖remix 0‖²
    lin = a @ gram.sum(-1).transpose(0, 1)             # (K, B): 1ᵀ G a
    est_pow = torch.stack([quad, gram.sum((1, 2))[:, None] - 2 * lin.T + quad], -1)  # (B, K, 2)
    dot0 = cross[..., 0] @ a.T                          # (B, K)
    dot = torch.stack([dot0, cross[..., 1].sum(-1, keepdim=True) - cross[..., 1] @ a.T], -1)
    ref_pow = energy[:, None, :]
    if loss == "snr":
        err = ref_pow - 2 * dot + est_pow
        if soft_cap_db is not None:
            err = err + 10 ** (-soft_cap_db / 10) * ref_pow
        per_mix = 10 * torch.log10((err + EPS) / (ref_pow + EPS))
    elif loss == "si_sdr":
        ref_e = ref_pow + EPS
        target_pow = dot.pow(2) * ref_pow / ref_e.pow(2)
        noise_pow = est_pow - 2 * dot.pow(2) / ref_e + target_pow
        per_mix = -10 * torch.log10(target_pow / (noise_pow.clamp_min(0) + EPS) + EPS)
    else:
        raise ValueError(f"MixIT loss must be 'snr' or 'si_sdr', not {loss!r}")
    return per_mix.mean(-1)


def mixit_loss(est: torch.Tensor, mixtures: torch.Tensor, loss: str = "snr",
               soft_cap_db: float | None = 30.0, only_first: Sequence[int] = (),
               method: str = "exact") -> tuple[torch.Tensor, torch.Tensor]:
    """Mixture invariant training loss of `(batch, M, time)` outputs against `(batch, 2, time)`
    reference mixtures: the best binary remix of the outputs onto the two mixtures.

    `loss`: "snr" (negative SNR with a soft cap, τ = 10^(−cap/10): `10·log10(‖y−ŷ‖² + τ‖y‖²)`
    minus the constant `10·log10 ‖y‖²`) or "si_sdr" (negative SI-SDR), averaged over the two
    mixtures. `method`: "exact" scores all assignments; "efficient" (Wisdom et al. 2021) takes
    each output to the mixture with the larger least-squares coefficient, O(M²T), for large M.
    Returns the per-example loss `(batch,)` and the assignment `(batch, M)` (True: mixture 0).
    """
    if mixtures.shape[1] != 2:
        raise ValueError("MixIT here remixes onto exactly two mixtures")
    with torch.no_grad():
        if method == "exact":
            table = binary_assignments(est.shape[1], only_first, est.device)
            best = _mixit_scores(est, mixtures, table, loss, soft_cap_db).argmin(-1)
            to_first = table[best]
        elif method == "efficient":
            to_first = efficient_assignment(est, mixtures, only_first)
        else:
            raise ValueError(f"MixIT method must be 'exact' or 'efficient', not {method!r}")
    remixed = remix(est, to_first)
    if loss == "snr":
        value = -snr(remixed, mixtures, soft_cap_db=soft_cap_db).mean(-1)
    else:
        value = -si_sdr(remixed, mixtures).mean(-1)
    return value, to_first


def efficient_assignment(est: torch.Tensor, mixtures: torch.Tensor,
                         only_first: Sequence[int] = ()) -> torch.Tensor:
    """Least-squares MixIT assignment: solve `est̂ᵀ A ≈ mixturesᵀ` for the `(M, 2)` mixing
    matrix A and send each output to its larger coefficient."""
    s, y = est.double(), mixtures.double()
    gram = s @ s.transpose(1, 2)
    ridge = 1e-6 * gram.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(EPS)
    eye = torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    coef = torch.linalg.solve(gram + ridge[:, None, None] * eye, s @ y.transpose(1, 2))
    to_first = coef[..., 0] >= coef[..., 1]
    to_first[:, list(only_first)] = True
    return to_first
