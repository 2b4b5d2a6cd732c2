"""Noisy-target training (denoising auto-encoder / Noisier2Noise): no clean speech needed.

Input z = noisy speech y + extra noise m at a sampled SNR relative to y; target = y. The model
learns to remove noise it cannot tell apart from the noise already in y, so it learns to
denoise. Noisier2Noise's correction `((1 + a²)·f − z) / a²` (m at a times the original noise
level) is available at inference through `correction_alpha`; by default f(y) is used directly.
"""
from __future__ import annotations

from typing import Literal

from ..models.inference import InferenceRule
from ..schema import Options, PositiveFloat, Range
from .base import TASKS, Batch, Task, signal_plus_noise
from .feature_loss import FeatureLossOptions
from .recording_chain import RecordingChainOptions
from .supervised import SignalLossName, signal_loss


class NoisyTargetOptions(Options):
    name: Literal["noisy_target"] = "noisy_target"
    extra_snr_db: Range = (0.0, 10.0)      # SNR of y against the added noise
    gain_db: Range = (-20.0, 0.0)
    loss: SignalLossName = "snr"
    correction_alpha: PositiveFloat | None = None  # Noisier2Noise correction at inference
    feature_loss: FeatureLossOptions | None = None   # an SSL feature loss on top
    recording_chain: RecordingChainOptions | None = None   # random devices on the input


@TASKS.register("noisy_target", NoisyTargetOptions)
class NoisyTarget(Task):
    name = "noisy_target"
    Options = NoisyTargetOptions
    needs = ("speech", "noise")

    def make_batch(self, raw, generator=None) -> Batch:
        return signal_plus_noise(raw["speech"], raw["noise"], self.options.extra_snr_db,
                                 self.options.gain_db, generator)

    def loss(self, est, batch):
        return signal_loss(self.options.loss, est[:, 0], batch.targets[:, 0])

    def build_inference_rule(self) -> InferenceRule:
        return InferenceRule(correction_alpha=self.options.correction_alpha)
