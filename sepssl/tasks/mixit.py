"""Mixture invariant training (MixIT, Wisdom et al. 2020): no clean sources needed.

The input is a mixture of two mixtures (MoM) made on the device; the model emits M outputs;
the loss takes the best binary remix of the outputs onto the two reference mixtures
(`sepssl.losses.mixit_loss`, exact, without a loop over the 2^M assignments). Outputs are
projected to sum to the MoM (mixture consistency).

- `mode: enhance` — mixture 0 = the user's noisy speech, mixture 1 = a noise-only clip at an
  SNR drawn from `snr_db` against it. The first `speech_outputs` outputs may only go to
  mixture 0 (the noise-only reference can take noise outputs only); at inference the speech
  outputs are summed. Nothing stops speech from going into a "noise" output too (it is then
  assigned to mixture 0 at no cost); with `speech_detector` (a file from
  `sepssl helper speech-detector`, trained without clean speech) the model file
  carries the detector and inference adds each other output weighted by its speech
  probability (`sepssl.models.speech_detector`), validation included.
- `mode: separate` — `speech` items are already mixtures (e.g. two talkers); MoMs pair example
  i with example i + B/2 of the batch. At inference all outputs are sources.
"""
from __future__ import annotations

from typing import Literal

import torch
from pydantic import model_validator

from .. import losses
from ..dsp import mixing
from ..errors import ConfigError
from ..models.inference import InferenceRule
from ..models.speech_detector import load_speech_detector
from ..schema import NonNegativeFloat, Options, PositiveFloat, PositiveInt, Range
from .base import TASKS, Batch, Task


def sparsity(est: torch.Tensor) -> torch.Tensor:
    """Over-separation guard: `Σ rms_m / (√(Σ rms_m²)·M)` per example, small when few outputs
    are active. `est` `(batch, outputs, time)` → `(batch,)`."""
    rms = est.pow(2).mean(-1).add(1e-8).sqrt()
    return rms.sum(1) / (rms.pow(2).sum(1).sqrt() * est.shape[1])


class MixITOptions(Options):
    name: Literal["mixit"] = "mixit"
    mode: Literal["enhance", "separate"] = "enhance"
    outputs: PositiveInt = 4                     # M
    speech_outputs: PositiveInt = 1              # enhance: outputs that hold speech
    snr_db: Range = (-5.0, 30.0)                 # enhance: noisy speech vs the noise clip
    gain_db: Range = (-20.0, 0.0)
    loss: Literal["snr", "si_sdr"] = "snr"       # snr (soft cap) | si_sdr
    soft_cap_db: PositiveFloat = 30.0
    method: Literal["exact", "efficient"] = "exact"  # efficient: least squares
    sparsity_weight: NonNegativeFloat = 0.0
    speech_detector: str | None = None           # enhance: detector file for the other outputs

    @model_validator(mode="after")
    def _outputs_fit(self):
        if self.outputs < 2 or (self.mode == "enhance" and not self.speech_outputs < self.outputs):
            raise ValueError("task.speech_outputs: need outputs >= 2 and, to enhance, "
                             "1 <= speech_outputs < outputs "
                             f"(got outputs {self.outputs}, speech_outputs {self.speech_outputs})")
        if self.speech_detector and self.mode != "enhance":
            raise ValueError("task.speech_detector: only for mode enhance (separation keeps "
                             "every output)")
        return self


@TASKS.register("mixit", MixITOptions)
class MixIT(Task):
    name = "mixit"
    Options = MixITOptions
    mixture_consistency = True

    def __init__(self, options=None, **values):
        super().__init__(options, **values)
        o = self.options
        self.n_outputs = o.outputs
        self.speech_outputs = (tuple(range(o.speech_outputs)) if o.mode == "enhance"
                               else tuple(range(o.outputs)))
        self.only_first = self.speech_outputs if o.mode == "enhance" else ()
        self.needs = ("speech", "noise") if o.mode == "enhance" else ("speech",)

    @classmethod
    def check_batch_size(cls, options, batch_size):
        if options.mode == "separate" and (batch_size < 2 or batch_size % 2):
            return ("mixit in mode separate pairs the two halves of a batch into mixtures of "
                    f"mixtures, so it needs an even size of at least 2 (got {batch_size})")
        return None

    def make_batch(self, raw, generator=None) -> Batch:
        o = self.options
        speech = raw["speech"]
        if o.mode == "enhance":
            snr = mixing.uniform(speech.shape[0], *o.snr_db, speech, generator)
            refs = torch.stack([speech, mixing.scale_to_snr(speech, raw["noise"], snr)], 1)
        else:
            half = speech.shape[0] // 2
            if half == 0:
                raise ConfigError("task mixit (separate) needs a batch of at least 2 mixtures")
            refs = torch.stack([speech[:half], speech[half:2 * half]], 1)
        mom = mixing.mixture_of_mixtures(refs)
        mom, refs = mixing.peak_normalize(mom, refs)
        gain = 10 ** (mixing.uniform(mom.shape[0], *o.gain_db, mom, generator) / 20)
        return Batch(inputs=mom * gain[:, None], targets=refs * gain[:, None, None])

    def build_inference_rule(self) -> InferenceRule:
        detector = (load_speech_detector(self.options.speech_detector)
                    if self.options.speech_detector else None)
        return InferenceRule(self.n_outputs, list(self.speech_outputs), True, None, detector)

    def loss(self, est, batch):
        o = self.options
        value, _ = losses.mixit_loss(est, batch.targets, loss=o.loss, soft_cap_db=o.soft_cap_db,
                                     only_first=self.only_first, method=o.method)
        if o.sparsity_weight:
            value = value + o.sparsity_weight * sparsity(est)
        return value.mean()
