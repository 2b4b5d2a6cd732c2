"""The oracle: clean speech + noise mixed on the device, clean speech as the target.

It needs clean speech, so it is not self-supervised: it is the upper bound every
self-supervised task is compared with at the same model size and number of steps.
"""
from __future__ import annotations

from typing import Literal

import torch

from .. import losses
from ..schema import Options, Range
from .base import TASKS, Batch, Task, signal_plus_noise
from .feature_loss import FeatureLossOptions
from .recording_chain import RecordingChainOptions

SignalLossName = Literal["snr", "si_sdr"]


def signal_loss(name: SignalLossName, est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Negative SNR ("snr": keeps the level) or negative SI-SDR ("si_sdr") of `(batch, time)`
    signals, averaged over the batch."""
    return losses.neg_snr(est, ref) if name == "snr" else losses.neg_si_sdr(est, ref)


class SupervisedOptions(Options):
    name: Literal["supervised"] = "supervised"
    snr_db: Range = (-5.0, 20.0)   # input SNR range of the training mixtures
    gain_db: Range = (-20.0, 0.0)  # level augmentation
    loss: SignalLossName = "snr"
    feature_loss: FeatureLossOptions | None = None   # an SSL feature loss on top
    recording_chain: RecordingChainOptions | None = None   # random devices on the input


@TASKS.register("supervised", SupervisedOptions)
class Supervised(Task):
    name = "supervised"
    Options = SupervisedOptions
    needs = ("speech", "noise")   # speech: CLEAN speech here

    def make_batch(self, raw, generator=None) -> Batch:
        return signal_plus_noise(raw["speech"], raw["noise"], self.options.snr_db,
                                 self.options.gain_db, generator)

    def loss(self, est, batch):
        return signal_loss(self.options.loss, est[:, 0], batch.targets[:, 0])
