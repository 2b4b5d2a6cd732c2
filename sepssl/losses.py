"""Losses and metrics over tensors: SI-SDR, SNR with a soft cap, exact and efficient MixIT.

Pure functions, batched over leading axes, device-agnostic. Time is the last axis.

MixIT is written here rather than taken from asteroid because asteroid's `MixITLossWrapper`
evaluates the loss in the time domain once per each of the 2^M assignments in a Python loop, so
its time and memory grow with 2^M full losses (the comparison is in metrics/README.md). Both
SNR and SI-SDR of a sum of outputs depend only on inner products, so `mixit_loss` scores every
assignment from the outputs' Gram matrix and their products with the mixtures (computed once,
in float64 against cancellation), then evaluates the chosen remix in the time domain so values
and gradients are the plain loss's.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import torch

from .dsp.mixing import remix

EPS = 1e-8


def si_sdr(est: torch.Tensor, ref: torch.Tensor, zero_mean: bool = True, eps: float = EPS
           ) -> torch.Tensor:
    """Scale-invariant signal-to-distortion ratio (SI-SDR) over the last axis.

    Higher is better. A silent estimate scores about −80 dB (the `eps` floor), never 0 dB.

    Args:
        est (torch.Tensor): Estimate, shape `(..., time)`.
        ref (torch.Tensor): Reference, shape `(..., time)`, broadcastable with `est`.
        zero_mean (bool, optional): Remove each signal's mean first. (Default: ``True``)
        eps (float, optional): Floor against division by zero and log of zero.

    Returns:
        torch.Tensor: SI-SDR in dB, shape `(...)`.
    """
    if zero_mean:
        est = est - est.mean(-1, keepdim=True)
        ref = ref - ref.mean(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps)
    target = alpha * ref
    noise = est - target
    return 10 * torch.log10(target.pow(2).sum(-1) / (noise.pow(2).sum(-1) + eps) + eps)


def snr(est: torch.Tensor, ref: torch.Tensor, soft_cap_db: float | None = None,
        eps: float = EPS) -> torch.Tensor:
    """Signal-to-noise ratio over the last axis, optionally with a soft cap.

    With `soft_cap_db` the value is `10·log10(‖y‖² / (‖y−ŷ‖² + τ‖y‖²))`, τ = 10^(−cap/10): the
    cap stops already well-estimated examples from dominating the gradient (MixIT's loss uses a
    30 dB cap). Unlike SI-SDR, SNR also penalises a wrong scale.

    Args:
        est (torch.Tensor): Estimate ŷ, shape `(..., time)`.
        ref (torch.Tensor): Reference y, shape `(..., time)`, broadcastable with `est`.
        soft_cap_db (float or None, optional): Soft upper limit in dB; ``None``: no cap.
            (Default: ``None``)
        eps (float, optional): Floor against division by zero and log of zero.

    Returns:
        torch.Tensor: SNR in dB, shape `(...)`.
    """
    ref_pow = ref.pow(2).sum(-1)
    err_pow = (ref - est).pow(2).sum(-1)
    if soft_cap_db is not None:
        err_pow = err_pow + 10 ** (-soft_cap_db / 10) * ref_pow
    return 10 * torch.log10((ref_pow + eps) / (err_pow + eps))


def neg_si_sdr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Mean negative SI-SDR, as a loss to minimise.

    Args:
        est (torch.Tensor): Estimate, shape `(..., time)`.
        ref (torch.Tensor): Reference, shape `(..., time)`.

    Returns:
        torch.Tensor: Scalar loss in dB.
    """
    return -si_sdr(est, ref).mean()


def neg_snr(est: torch.Tensor, ref: torch.Tensor, soft_cap_db: float | None = None) -> torch.Tensor:
    """Mean negative SNR, as a loss that, unlike SI-SDR, also asks for the right scale.

    Args:
        est (torch.Tensor): Estimate, shape `(..., time)`.
        ref (torch.Tensor): Reference, shape `(..., time)`.
        soft_cap_db (float or None, optional): Soft cap in dB, as in `snr`. (Default: ``None``)

    Returns:
        torch.Tensor: Scalar loss in dB.
    """
    return -snr(est, ref, soft_cap_db=soft_cap_db).mean()


# --- permutation-invariant scoring -----------------------------------------------------------

def pairwise_si_sdr(est: torch.Tensor, refs: torch.Tensor) -> torch.Tensor:
    """SI-SDR of every output against every reference.

    Args:
        est (torch.Tensor): Outputs, shape `(batch, outputs, time)`.
        refs (torch.Tensor): References, shape `(batch, refs, time)`.

    Returns:
        torch.Tensor: SI-SDR in dB, shape `(batch, refs, outputs)`.
    """
    return si_sdr(est.unsqueeze(1), refs.unsqueeze(2))


def pit_si_sdr(est: torch.Tensor, refs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Permutation-invariant SI-SDR: the best one-to-one matching of C references to M ≥ C
    outputs by mean SI-SDR.

    With M > C the unmatched outputs are ignored: this is how a MixIT model with spare outputs
    is scored on fewer sources.

    Args:
        est (torch.Tensor): Outputs, shape `(batch, M, time)`.
        refs (torch.Tensor): References, shape `(batch, C, time)`.

    Returns:
        (torch.Tensor, torch.Tensor):
            torch.Tensor
                Matched SI-SDR in dB, shape `(batch, C)`; differentiable, so minus its mean is
                the PIT loss.
            torch.Tensor
                Index of the output matched to each reference, shape `(batch, C)`.

    Raises:
        ValueError: If there are fewer outputs than references.
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
    """Every binary assignment of M outputs to two mixtures, for exact MixIT.

    Outputs in `only_first` always go to mixture 0 (MixIT enhancement: speech outputs may not
    explain the noise-only mixture).

    Args:
        n_outputs (int): Number of outputs M, 1 to 24.
        only_first (Sequence[int], optional): Outputs fixed to mixture 0. (Default: ``()``)
        device (torch.device, str or None, optional): Device of the table.

    Returns:
        torch.Tensor: Bool table of shape `(K, M)`, K = 2^(M − len(only_first)); True means
        mixture 0.

    Raises:
        ValueError: If M is not between 1 and 24.
    """
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
    """Mixture invariant training (MixIT) loss: the best binary remix of the outputs onto the
    two reference mixtures.

    The assignment is chosen without gradient; the loss of the chosen remix is then computed in
    the time domain, so values and gradients are those of the plain loss.

    Args:
        est (torch.Tensor): Model outputs, shape `(batch, M, time)`.
        mixtures (torch.Tensor): Reference mixtures, shape `(batch, 2, time)`.
        loss (str, optional): ``"snr"`` (negative SNR with a soft cap, τ = 10^(−cap/10):
            `10·log10(‖y−ŷ‖² + τ‖y‖²)` minus the constant `10·log10 ‖y‖²`) or ``"si_sdr"``
            (negative SI-SDR), averaged over the two mixtures. (Default: ``"snr"``)
        soft_cap_db (float or None, optional): Soft cap in dB for ``"snr"``. (Default: ``30.0``)
        only_first (Sequence[int], optional): Outputs always assigned to mixture 0.
            (Default: ``()``)
        method (str, optional): ``"exact"`` scores all 2^M assignments; ``"efficient"``
            (Wisdom et al. 2021) sends each output to the mixture with the larger least-squares
            coefficient, O(M²T), for large M. (Default: ``"exact"``)

    Returns:
        (torch.Tensor, torch.Tensor):
            torch.Tensor
                Per-example loss in dB, shape `(batch,)`.
            torch.Tensor
                Chosen assignment, bool, shape `(batch, M)`; True means mixture 0.

    Raises:
        ValueError: If `mixtures` does not hold exactly two mixtures, or `loss` / `method` is
            unknown.
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
    """Least-squares MixIT assignment ("efficient MixIT", Wisdom et al. 2021).

    Solves `estᵀ A ≈ mixturesᵀ` for the `(M, 2)` mixing matrix A (with a small ridge term) and
    sends each output to the mixture with its larger coefficient.

    Args:
        est (torch.Tensor): Model outputs, shape `(batch, M, time)`.
        mixtures (torch.Tensor): Reference mixtures, shape `(batch, 2, time)`.
        only_first (Sequence[int], optional): Outputs always assigned to mixture 0.
            (Default: ``()``)

    Returns:
        torch.Tensor: Assignment, bool, shape `(batch, M)`; True means mixture 0.
    """
    s, y = est.double(), mixtures.double()
    gram = s @ s.transpose(1, 2)
    ridge = 1e-6 * gram.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(EPS)
    eye = torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    coef = torch.linalg.solve(gram + ridge[:, None, None] * eye, s @ y.transpose(1, 2))
    to_first = coef[..., 0] >= coef[..., 1]
    to_first[:, list(only_first)] = True
    return to_first
