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

from dataclasses import dataclass

import torch

from .. import losses
from ..dsp import mixing
from .base import Batch, Task


class Separation(Task):
    name = "separation"

    @dataclass
    class Options:
        outputs: int = 2
        level_db: tuple[float, float] = (-5.0, 5.0)   # second talker against the first
        noise_snr_db: tuple[float, float] | None = None  # add noise at this SNR (None: no noise)
        gain_db: tuple[float, float] = (-20.0, 0.0)

    def __init__(self, **options):
        super().__init__(**options)
        self.n_outputs = self.options.outputs
        self.speech_outputs = tuple(range(self.n_outputs))

    def make_batch(self, raw, generator=None) -> Batch:
        o = self.options
        first = raw["speech"]
        b = first.shape[0]
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
