"""The oracle: clean speech + noise mixed on the device, clean speech as the target.

It needs clean speech, so it is not self-supervised: it is the upper bound every
self-supervised task is compared with at the same model size and number of steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import losses
from ..dsp import mixing
from .base import Batch, Task


@dataclass
class SignalLoss:
    loss: str = "snr"            # "snr" (keeps the level) or "si_sdr"

    def __call__(self, est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return losses.neg_snr(est, ref) if self.loss == "snr" else losses.neg_si_sdr(est, ref)


class Supervised(Task):
    name = "supervised"

    @dataclass
    class Options:
        snr_db: tuple[float, float] = (-5.0, 20.0)   # input SNR range of the training mixtures
        gain_db: tuple[float, float] = (-20.0, 0.0)  # level augmentation
        loss: str = "snr"

    def make_batch(self, raw, generator=None) -> Batch:
        clean, noise = raw["speech"], raw["noise"]
        snr = mixing.uniform(clean.shape[0], *self.options.snr_db, clean, generator)
        noisy, _ = mixing.mix_at_snr(clean, noise, snr)
        noisy, clean = mixing.peak_normalize(noisy, clean)
        gain = 10 ** (mixing.uniform(clean.shape[0], *self.options.gain_db, clean, generator) / 20)
        return Batch(inputs=noisy * gain[:, None], targets=(clean * gain[:, None]).unsqueeze(1))

    def loss(self, est, batch):
        return SignalLoss(self.options.loss)(est[:, 0], batch.targets[:, 0])
