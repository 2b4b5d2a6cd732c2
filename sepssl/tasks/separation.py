"""Speech separation with permutation-invariant training (PIT), the target of denoising
pre-training (Huang et al., Interspeech 2021).

Two-talker mixtures are made on the device: each utterance of the batch is paired with the
next one (`torch.roll` over the batch) at a relative level drawn from `level_db`, optionally
with noise; targets are the two sources; the loss is negative SI-SDR under the best output
permutation. It needs single-talker speech, so like `supervised` it is an upper bound.

Denoising pre-training is not a task option but `trainer.init_from`: start from any
enhancement model (a `supervised` one = the paper's clean-target pre-training, a
`noisy_target` one = fully self-supervised); every weight but the output layer is kept.
"""
from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import Field

from .. import losses
from ..dsp import mixing
from ..errors import ConfigError
from ..schema import Int, Options, Range
from .base import TASKS, Batch, Task


class SeparationOptions(Options):
    name: Literal["separation"] = "separation"
    outputs: Annotated[Int, Field(ge=2)] = 2  # at least the two talkers (PIT picks the best)
    level_db: Range = (-5.0, 5.0)             # second talker against the first
    noise_snr_db: Range | None = None         # add noise at this SNR (None: no noise)
    gain_db: Range = (-20.0, 0.0)


@TASKS.register("separation", SeparationOptions)
class Separation(Task):
    name = "separation"
    Options = SeparationOptions

    def __init__(self, options=None, **values):
        super().__init__(options, **values)
        self.n_outputs = self.options.outputs
        self.speech_outputs = tuple(range(self.n_outputs))
        self.needs = ("speech", "noise") if self.options.noise_snr_db is not None else ("speech",)

    @classmethod
    def check_batch_size(cls, options, batch_size):
        return None if batch_size >= 2 else f"separation pairs each utterance with another one of its batch, so it needs at least 2 (got {batch_size})"

    def make_batch(self, raw, generator=None) -> Batch:
        o = self.options
        first = raw["speech"]
        b = first.shape[0]
        if b < 2:
            raise ConfigError("data.batch_size: separation pairs each utterance with another one "
                              f"of its batch, so it needs at least 2 (got {b})")
        second = mixing.scale_to_snr(first, first.roll(1, 0),
                                     -mixing.uniform(b, *o.level_db, first, generator))
        sources = torch.stack([first, second], 1)
        mixture = sources.sum(1)
        if o.noise_snr_db is not None:
            mixture, _ = mixing.mix_at_snr(mixture, raw["noise"],
                                           mixing.uniform(b, *o.noise_snr_db, first, generator))
        mixture, sources = mixing.peak_normalize(mixture, sources)
        gain = 10 ** (mixing.uniform(b, *o.gain_db, first, generator) / 20)
        return Batch(inputs=mixture * gain[:, None], targets=sources * gain[:, None, None])

    def loss(self, est, batch):
        matched, _ = losses.pit_si_sdr(est, batch.targets)
        return -matched.mean()
