"""The oracle: clean speech + noise mixed on the device, clean speech as the target.

It needs clean speech, so it is not self-supervised: it is the upper bound every
self-supervised task is compared with at the same model size and number of steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import losses
from .base import Batch, Task, signal_plus_noise


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
        return signal_plus_noise(raw["speech"], raw["noise"], self.options.snr_db,
                                 self.options.gain_db, generator)

    def loss(self, est, batch):
        return SignalLoss(self.options.loss)(est[:, 0], batch.targets[:, 0])
