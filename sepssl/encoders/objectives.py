"""Pure tensor pieces of the encoders' pretext objectives: span masking, negative sampling,
InfoNCE, EMA, gradient scaling and the collapse indicator.

Written here because no well-kept library has them as plain functions: torchaudio builds
wav2vec 2.0's network but ships no pre-training loss (its `_compute_mask_indices` is private
and HuBERT-shaped), and CPC / BYOL-A have no maintained PyTorch package. No file I/O, no
globals; every function works on any device and takes an optional `torch.Generator`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def span_mask(batch: int, frames: int, prob: float, span: int, min_masked: int = 2,
              device: torch.device | str | None = None,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Boolean `(batch, frames)` mask made of spans of `span` frames (wav2vec 2.0, §3.1).

    Why this form: the paper samples `prob` of all frames as span *starts* (in expectation
    `prob * frames / span` starts, drawn without replacement) and masks the `span` frames that
    follow each; spans overlap, so the masked share is about `1 - (1 - prob/span)^span`
    (≈ 49 % for p = 0.65, M = 10), not `prob`. Rows are masked independently and may have
    different counts (the loss works on the flat list of masked frames, so no row is trimmed
    and every span stays whole). Each row gets at least `min_masked` frames so that a masked
    frame always has another masked frame of its own utterance to serve as a distractor.

    Args:
        batch (int): Number of rows.
        frames (int): Frames per row (at least 2).
        prob (float): Share of frames drawn as span starts.
        span (int): Span length in frames (capped at `frames - 1`).
        min_masked (int, optional): Fewest masked frames per row. (Default: ``2``)
        device (torch.device, str or None, optional): Device of the mask.
        generator (torch.Generator or None, optional): Random generator.

    Returns:
        torch.Tensor: Bool mask, shape `(batch, frames)`; True marks a masked frame.

    Raises:
        ValueError: If `frames` is below 2.
    """
    if frames < 2:
        raise ValueError(f"span_mask: need at least 2 frames, got {frames}")
    span = max(1, min(span, frames - 1))
    starts_n = frames - span + 1
    # expected prob*frames/span starts per row, rounded at random (fairseq's "+ rand")
    want = prob * frames / span + torch.rand(batch, generator=generator, device=device)
    count = want.floor().long().clamp(min=math.ceil(min_masked / span), max=starts_n)
    # k distinct starts per row: rank a random score and keep the k smallest ranks
    score = torch.rand(batch, starts_n, generator=generator, device=device)
    rank = score.argsort(dim=1).argsort(dim=1)
    starts = (rank < count[:, None]).float()
    # frame t is masked if any start lies in [t - span + 1, t]: a max over a sliding window
    padded = F.pad(starts.unsqueeze(1), (span - 1, span - 1))
    covered = F.max_pool1d(padded, kernel_size=span, stride=1).squeeze(1)
    return covered[:, :frames] > 0


def sample_excluding(positive: torch.Tensor, high: torch.Tensor | int, n: int,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """`n` indices per item, uniform over `[0, high)` without the item's `positive` index.

    Why: a distractor equal to the positive would make the contrastive task unsolvable and
    push the model towards the trivial solution; drawing from `high - 1` values and shifting
    those ≥ the positive up by one excludes it exactly, without rejection loops. Draws are with
    replacement (as in wav2vec 2.0 / CPC), so `n` may exceed `high - 1`. `high` (≥ 2) may be a
    tensor broadcastable to `positive` (one range per item, e.g. per utterance).

    Args:
        positive (torch.Tensor): Index to exclude, integer, any shape `(...)`.
        high (torch.Tensor or int): Exclusive upper bound (≥ 2), broadcastable to `positive`.
        n (int): Draws per item.
        generator (torch.Generator or None, optional): Random generator.

    Returns:
        torch.Tensor: Indices, shape `(..., n)`.

    Raises:
        ValueError: If any range holds fewer than 2 values.
    """
    high = torch.as_tensor(high, device=positive.device).expand_as(positive)
    if bool((high < 2).any()):
        raise ValueError("sample_excluding: every range needs at least 2 values")
    u = torch.rand(*positive.shape, n, generator=generator, device=positive.device)
    idx = (u * (high - 1).unsqueeze(-1)).long()
    return idx + (idx >= positive.unsqueeze(-1)).long()


def info_nce(pos_logits: torch.Tensor, neg_logits: torch.Tensor,
             invalid: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """InfoNCE (CPC, wav2vec 2.0): cross-entropy of picking the positive among itself and the
    distractors, from scores already scaled by their temperature.

    `pos_logits (...)`, `neg_logits (..., K)`; `invalid (..., K)` marks distractors that are
    identical to the positive (e.g. the same quantised codewords) and are left out, as a copy
    of the target cannot be told apart from it. Returns the mean loss and the accuracy (share
    of items whose positive scores strictly highest: a collapsed model that scores all alike
    must not count as right) as a detached tensor.

    Args:
        pos_logits (torch.Tensor): Score of each positive, shape `(...)`.
        neg_logits (torch.Tensor): Scores of the distractors, shape `(..., K)`.
        invalid (torch.Tensor or None, optional): Bool, shape `(..., K)`: distractors to leave
            out.

    Returns:
        (torch.Tensor, torch.Tensor): The mean cross-entropy loss and the accuracy, both
        scalars.
    """
    if invalid is not None:
        neg_logits = neg_logits.masked_fill(invalid, float("-inf"))
    logits = torch.cat([pos_logits.unsqueeze(-1), neg_logits], dim=-1).float()
    logits = logits.reshape(-1, logits.shape[-1])
    target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
    loss = F.cross_entropy(logits, target)
    with torch.no_grad():
        acc = (logits[:, 0] > logits[:, 1:].amax(-1)).float().mean()
    return loss, acc


def scale_grad(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Same values, gradient multiplied by `scale` (wav2vec 2.0 scales the CNN feature
    encoder's gradient by 0.1 to keep its pre-training stable).

    Args:
        x (torch.Tensor): Any tensor.
        scale (float): Gradient factor.

    Returns:
        torch.Tensor: `x`'s values with a scaled gradient.
    """
    if scale == 1.0:
        return x
    return x * scale + x.detach() * (1.0 - scale)


@torch.no_grad()
def ema_update(target: torch.nn.Module, online: torch.nn.Module, decay: float) -> None:
    """Exponential moving average ξ ← τ·ξ + (1 − τ)·θ, in place, for every floating parameter
    and buffer (BYOL's target network); integer buffers (BatchNorm's counters) are copied.

    Args:
        target (torch.nn.Module): Network ξ, updated in place.
        online (torch.nn.Module): Network θ of the same architecture.
        decay (float): τ, between 0 and 1.
    """
    for t, o in zip(target.state_dict().values(), online.state_dict().values()):
        if t.is_floating_point():
            t.mul_(decay).add_(o.detach(), alpha=1.0 - decay)
        else:
            t.copy_(o)


@torch.no_grad()
def embedding_std(emb: torch.Tensor) -> torch.Tensor:
    """Collapse indicator: standard deviation across the batch of the L2-normalised embeddings,
    averaged over dimensions. A collapsed encoder (same output for every input) gives 0; an
    embedding spread over the sphere gives about `1/sqrt(dim)`.

    Args:
        emb (torch.Tensor): Embeddings, shape `(batch, ...)`, flattened per item.

    Returns:
        torch.Tensor: Scalar; 0 for a batch of fewer than two items.
    """
    emb = F.normalize(emb.float().reshape(emb.shape[0], -1), dim=-1)
    if emb.shape[0] < 2:
        return emb.new_zeros(())
    return emb.std(dim=0).mean()


def perplexity(probs: torch.Tensor) -> torch.Tensor:
    """exp(entropy) of distributions on the last axis, summed over the leading (group) axes:
    how many codewords are effectively in use (wav2vec 2.0's codebook collapse check).

    Args:
        probs (torch.Tensor): Distributions, shape `(groups, codewords)` (any leading axes).

    Returns:
        torch.Tensor: Scalar: the sum of the per-group perplexities.
    """
    ent = -(probs * torch.log(probs.clamp_min(1e-7))).sum(-1)
    return torch.exp(ent).sum()
