"""PseudoSE (Sivaraman & Kim): the user's own noisy speech as the training target, with
optional data purification. No clean speech reaches the enhancer.

The pseudo-source y is a noisy recording (typically 0–15 dB SNR); input = y + extra noise m at
an SNR drawn from `snr_db` (−5…5 dB by default, so m dominates the noise already in y); target =
y; loss = negative SNR. The network learns to remove noise of the kind it is given, and with it
much of the noise in y. Unlike `noisy_target` (0–10 dB extra noise), the method mixes hard.

Data purification: y's own noise is part of the target, so frames of y that are mostly noise
teach the model to keep noise. A frozen SNR predictor (`sepssl.models.snr_predictor`, trained
once on generic clean speech + noise) estimates the segmental SNR of every frame of y; weights
w = logistic(SNR / weight_scale_db) turn the loss into a frame-weighted segmental SNR over Hann
frames of the predictor's size (1024 samples, hop 256), so likely-clean frames count and noisy
ones hardly do. Hand-written: no library implements PseudoSE or its purification.
"""
from __future__ import annotations

from typing import Literal

import torch
from pydantic import model_validator

from .. import losses
from ..errors import ConfigError
from ..models import snr_predictor as sp
from ..schema import Options, PositiveFloat, Range
from .base import TASKS, Batch, Task, signal_plus_noise
from .feature_loss import FeatureLossOptions

SEGMENT_SOFT_CAP_DB = 30.0  # frames already estimated this well stop pulling the gradient


def weighted_segmental_neg_snr(est: torch.Tensor, ref: torch.Tensor, weights: torch.Tensor,
                               n_fft: int = sp.N_FFT, hop: int = sp.HOP,
                               soft_cap_db: float | None = SEGMENT_SOFT_CAP_DB) -> torch.Tensor:
    """−Σ w·SNR_frame / Σ w over the whole batch: `est`, `ref` `(batch, time)`, `weights`
    `(batch, frames)` (or `(batch,)`, one per example). Normalised over the batch, not per
    example, so an example whose frames are all weighted ~0 contributes ~nothing."""
    seg = sp.segmental_snr(ref, ref - est, n_fft, hop, soft_cap_db)
    if weights.dim() == 1:
        weights = weights[:, None].expand_as(seg)
    if weights.shape != seg.shape:
        raise ValueError(f"frame weights of shape {tuple(weights.shape)} do not match the "
                         f"{tuple(seg.shape)} frames (n_fft {n_fft}, hop {hop}) of the signals")
    weights = weights.to(seg.dtype)
    return -(weights * seg).sum() / (weights.sum() + sp.EPS)


class PseudoSEOptions(Options):
    name: Literal["pseudose"] = "pseudose"
    snr_db: Range = (-5.0, 5.0)         # SNR of the pseudo-source vs the added noise
    gain_db: Range = (-20.0, 0.0)       # level augmentation
    purification: bool = False          # frame weights from the SNR predictor
    snr_predictor: str | None = None    # its file (needed with purification)
    weight_scale_db: PositiveFloat = 1.0  # w = logistic(predicted SNR / this)
    feature_loss: FeatureLossOptions | None = None   # an SSL feature loss on top

    @model_validator(mode="after")
    def _predictor_given(self):
        if self.purification and not self.snr_predictor:
            raise ValueError("task.snr_predictor: purification needs an SNR predictor file "
                             "(make one with `sepssl helper snr-predictor`), or set "
                             "task.purification=false")
        return self


@TASKS.register("pseudose", PseudoSEOptions)
class PseudoSE(Task):
    name = "pseudose"
    Options = PseudoSEOptions
    needs = ("speech", "noise")

    def build_helpers(self, net):
        """With purification: the frozen SNR predictor, loaded from its file."""
        if not self.options.purification:
            return {}
        model = sp.load_snr_predictor(self.options.snr_predictor).requires_grad_(False).eval()
        rate = getattr(net, "sample_rate", None)
        if rate is not None and rate != model.sample_rate:
            raise ConfigError(f"task.snr_predictor: {self.options.snr_predictor} was trained at "
                              f"{model.sample_rate} Hz but the model runs at {rate} Hz; "
                              "train a predictor at the model's rate")
        return {"snr_predictor": model}

    def predictor(self) -> sp.SNRPredictor:
        """The frozen SNR predictor (loaded on first use if the trainer has not yet)."""
        helpers = self.helpers(None) if self._helpers is None else self._helpers
        if "snr_predictor" not in helpers:
            raise ConfigError("task pseudose: the SNR predictor is only used with purification")
        return helpers["snr_predictor"]

    def frame_weights(self, pseudo_source: torch.Tensor) -> torch.Tensor:
        """`(batch, frames)` purification weights in (0, 1) for `(batch, time)` pseudo-sources."""
        model = self.predictor().eval()  # Lightning's .train() reaches it
        param = next(model.parameters())
        with torch.no_grad():
            snr = model(pseudo_source.detach().to(param.device, param.dtype))
        return torch.sigmoid(snr / self.options.weight_scale_db).to(pseudo_source)

    def make_batch(self, raw, generator=None) -> Batch:
        o = self.options
        batch = signal_plus_noise(raw["speech"], raw["noise"], o.snr_db, o.gain_db, generator)
        if o.purification:
            batch.weights = self.frame_weights(batch.targets[:, 0])
        return batch

    def loss(self, est, batch):
        if batch.weights is None:
            return losses.neg_snr(est[:, 0], batch.targets[:, 0])
        helpers = self._helpers if self._helpers is not None else {}
        model = helpers["snr_predictor"] if "snr_predictor" in helpers else None
        n_fft, hop = (model.n_fft, model.hop) if model is not None else (sp.N_FFT, sp.HOP)
        return weighted_segmental_neg_snr(est[:, 0], batch.targets[:, 0], batch.weights, n_fft, hop)
