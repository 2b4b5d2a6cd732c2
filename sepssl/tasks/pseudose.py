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

from dataclasses import dataclass

import torch

from .. import losses
from ..errors import ConfigError
from ..models import snr_predictor as sp
from .base import Batch, Task, check_ranges, signal_plus_noise

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


class PseudoSE(Task):
    name = "pseudose"

    @dataclass
    class Options:
        snr_db: tuple[float, float] = (-5.0, 5.0)    # SNR of the pseudo-source vs the added noise
        gain_db: tuple[float, float] = (-20.0, 0.0)  # level augmentation
        purification: bool = False                   # frame weights from the SNR predictor
        snr_predictor: str | None = None             # its file (needed with purification)
        weight_scale_db: float = 1.0                 # w = logistic(predicted SNR / this)

    def __init__(self, **options):
        super().__init__(**options)
        o = self.options
        check_ranges(o, "snr_db", "gain_db")
        if o.weight_scale_db <= 0:
            raise ConfigError(f"task.weight_scale_db: must be positive, got {o.weight_scale_db}")
        if o.purification and not o.snr_predictor:
            raise ConfigError("task.snr_predictor: purification needs an SNR predictor file; "
                              "train one with `python recipes/pseudose/train_snr_predictor.py` "
                              "and give its path, or set task.purification=false")
        self._predictor: sp.SNRPredictor | None = None

    def predictor(self, device: torch.device | str = "cpu") -> sp.SNRPredictor:
        """The frozen SNR predictor, loaded once (onto `device` the first time)."""
        if self._predictor is None:
            model = sp.load_snr_predictor(self.options.snr_predictor, device)
            self._predictor = model.requires_grad_(False).eval()
        return self._predictor

    def auxiliary(self, net):
        """With purification: the frozen predictor, so the trainer keeps it on the device."""
        if not self.options.purification:
            return None
        model = self.predictor()
        rate = getattr(net, "sample_rate", None)
        if rate is not None and rate != model.sample_rate:
            raise ConfigError(f"task.snr_predictor: {self.options.snr_predictor} was trained at "
                              f"{model.sample_rate} Hz but the model runs at {rate} Hz; "
                              "train a predictor at the model's rate")
        return model

    def frame_weights(self, pseudo_source: torch.Tensor) -> torch.Tensor:
        """`(batch, frames)` purification weights in (0, 1) for `(batch, time)` pseudo-sources."""
        model = self.predictor(pseudo_source.device).eval()  # Lightning's .train() reaches it
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
        n_fft, hop = ((self._predictor.n_fft, self._predictor.hop) if self._predictor is not None
                      else (sp.N_FFT, sp.HOP))
        return weighted_segmental_neg_snr(est[:, 0], batch.targets[:, 0], batch.weights, n_fft, hop)
