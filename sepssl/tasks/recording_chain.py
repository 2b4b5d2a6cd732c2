"""The recording chain as a task option: each training input passes through a random device
(microphone colouration, telephone band with μ-law coding, clipping, mains hum, DC), drawn
per example on the training device (`sepssl.dsp.chain`).

Why: users' recordings come through phones and cheap microphones that the corpus's clean
studio and game speech never did. Linear colouration reaches the target too (the enhancer
should not invent the band a phone removed); coding noise, clipping, hum and DC reach the
input only (the enhancer should remove them).

    task: {name: supervised, recording_chain: {telephone_p: 0.2}}
"""
from __future__ import annotations

import torch

from ..dsp import chain
from ..schema import NonNegativeFloat, Options, Probability, Range


class RecordingChainOptions(Options):
    eq_p: Probability = 0.5                    # share of examples with a random microphone EQ
    eq_db: NonNegativeFloat = 6.0           # its largest boost or cut
    telephone_p: Probability = 0.1             # 300–3400 Hz band and 8-bit μ-law
    clip_p: Probability = 0.1
    clip_fraction: Range = (0.3, 0.9)       # clipped at this share of the example's peak
    hum_p: Probability = 0.1
    hum_db: Range = (-35.0, -15.0)          # 50/60 Hz hum, relative to the input's RMS
    dc_p: Probability = 0.1
    dc_db: Range = (-40.0, -20.0)


def through_chain(inputs: torch.Tensor, targets: torch.Tensor, rate: int,
                  options: RecordingChainOptions, generator: torch.Generator | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """`sepssl.dsp.chain.apply` with the options' settings: inputs `(batch, time)`, targets
    `(batch, outputs, time)` -> the same shapes."""
    settings = chain.ChainSettings(**options.model_dump())
    return chain.apply(inputs, targets, rate, settings, generator)
