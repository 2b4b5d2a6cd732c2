"""An SSL feature loss for the enhancement tasks: the distance between a frozen pre-trained
encoder's features of the estimate and of the target, added to the task's own loss.

The line of work of the "phone-fortified perceptual loss" (wav2vec 2.0 features as the loss);
here the encoder is any one sepssl pre-trained itself (`sepssl pretrain`: CPC, wav2vec 2.0,
BYOL-A frame features), frozen, on the training device, in the same batch. The distance is the
mean absolute difference of layer-normalised frame features, averaged over the chosen layers, so
every layer counts alike whatever its scale. Written here because no library offers it for
sepssl's own encoders.

    task: {name: supervised, feature_loss: {encoder: runs/cpc/encoder.pt, weight: 1.0}}
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ..schema import Options, PositiveFloat


class FeatureLossOptions(Options):
    encoder: str                              # an encoder file of `sepssl pretrain`
    weight: PositiveFloat = 1.0               # added to the task's loss as weight × distance
    layers: Literal["all", "last"] | int = "all"
    seconds: PositiveFloat | None = None      # on a random window this long of each example
                                              # (None: all of it); the encoder's cost scales with it


def random_windows(est: torch.Tensor, ref: torch.Tensor, length: int,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The same random window of `length` samples of each example of both signals.

    Args:
        est, ref: `(batch, time)`.
        length: window length in samples (the whole signal if it is not shorter).
    Returns:
        `(est, ref)` windows, `(batch, min(length, time))`.
    """
    time = est.shape[-1]
    if length >= time:
        return est, ref
    start = torch.randint(0, time - length + 1, (est.shape[0], 1), device=est.device,
                          generator=generator)
    index = start + torch.arange(length, device=est.device)
    return est.gather(-1, index), ref.gather(-1, index)


def load_feature_encoder(options: FeatureLossOptions) -> nn.Module:
    """The frozen encoder of the feature loss (representation only, eval mode)."""
    from ..encoders import load_encoder

    return load_encoder(options.encoder, pretext=False).requires_grad_(False).eval()


def feature_distance(encoder: nn.Module, est: torch.Tensor, ref: torch.Tensor,
                     layers: str | int = "all") -> torch.Tensor:
    """Mean absolute difference of the encoder's layer-normalised frame features.

    Args:
        encoder: a frame encoder with `layer_features(wav) -> [(batch, frames, dim), ...]`.
        est: `(batch, time)` estimates (the gradient flows back to them).
        ref: `(batch, time)` targets.
        layers: "all" (averaged over the layers), "last", or one layer index.
    Returns:
        A scalar.
    """
    encoder.eval()   # frozen: no dropout whatever the trainer does
    with torch.no_grad():
        ref_feats = encoder.layer_features(ref)
    est_feats = encoder.layer_features(est)
    chosen = (range(len(est_feats)) if layers == "all" else
              [len(est_feats) - 1] if layers == "last" else [layers])
    terms = []
    for i in chosen:
        a, b = est_feats[i], ref_feats[i]
        terms.append((nn.functional.layer_norm(a, a.shape[-1:])
                      - nn.functional.layer_norm(b, b.shape[-1:])).abs().mean())
    return torch.stack(terms).mean()
