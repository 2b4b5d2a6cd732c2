"""The recording chain as a task option: each training input passes through a random device
(a room, microphone colouration, telephone band with μ-law coding, clipping, mains hum, DC, a
lossy codec), drawn per example (`sepssl.dsp.chain`, `sepssl.dsp.reverb`, `sepssl.codecs`).

Why: users' recordings come through rooms, phones, cheap microphones and voice-call codecs that
the corpus's clean studio and game speech never did. Linear colouration reaches the target too
(the enhancer should not invent the band a phone removed), and so does the band a codec cut;
the room, coding noise, clipping, hum and DC reach the input only (the enhancer should remove
them: the target stays dry, aligned with the room's direct path, the corpus's convention).

    task: {name: supervised, recording_chain: {telephone_p: 0.2, reverb_p: 0.2, codec_p: 0.1}}

Rooms and codecs are off by default, so that runs made before them draw the same chains.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

import numpy as np
import torch
from pydantic import Field, field_validator

from .. import codecs
from ..dsp import chain
from ..dsp.mixing import uniform
from ..dsp.reverb import reverberate
from ..schema import NonNegativeFloat, NonNegativeInt, Options, PositiveInt, Probability, Range


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
    reverb_p: Probability = 0.0                # share of inputs heard in a random room
    reverb_rooms: PositiveInt = 64          # rooms simulated once per run (small, room, hall)
    reverb_seed: NonNegativeInt = 0         # which rooms
    codec_p: Probability = 0.0                 # share of inputs through a lossy codec
    codecs: Annotated[list[Literal["opus", "g722"]], Field(min_length=1)] = ["opus", "g722"]
    opus_kbps: Range = (6.0, 32.0)          # Opus bitrates (kbit/s on speech), within 6–256

    @field_validator("opus_kbps")
    @classmethod
    def _opus_can_code(cls, v: tuple[float, float]) -> tuple[float, float]:
        lo, hi = codecs.OPUS_KBPS_RANGE
        if v[0] < lo or v[1] > hi:
            raise ValueError(f"Opus codes {lo:g} to {hi:g} kbit/s")
        return v


def through_chain(inputs: torch.Tensor, targets: torch.Tensor, rate: int,
                  options: RecordingChainOptions, generator: torch.Generator | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch through random recording chains: a room (`reverb_p`), then
    `sepssl.dsp.chain.apply` with the options' settings, then a codec (`codec_p`).

    Args:
        inputs: `(batch, time)`.
        targets: `(batch, outputs, time)`.
        rate: sample rate in Hz.
        options: the chain's settings.
        generator: random generator (the rooms' and codecs' draws are made only when they are
            on, so that chains without them are drawn as before).

    Returns:
        The inputs and targets, same shapes.
    """
    if options.reverb_p > 0:
        inputs = in_rooms(inputs, rate, options, generator)
    settings = chain.ChainSettings(**options.model_dump(
        include=set(chain.ChainSettings.__dataclass_fields__)))
    inputs, targets = chain.apply(inputs, targets, rate, settings, generator)
    if options.codec_p > 0:
        inputs, targets = through_codecs(inputs, targets, rate, options, generator)
    return inputs, targets


@lru_cache(maxsize=4)
def room_bank(rooms: int, seed: int, rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`rooms` simulated rooms (`sepssl.data.rooms.varied_rir`): responses `(rooms, taps)`,
    zero-padded, and direct-path indices `(rooms,)`; the same for the same arguments."""
    from ..data.rooms import varied_rir

    rng = np.random.default_rng(seed)
    rirs = [varied_rir(rng, rate) for _ in range(rooms)]
    bank = torch.zeros(rooms, max(len(r.h) for r in rirs))
    for i, r in enumerate(rirs):
        bank[i, :len(r.h)] = torch.from_numpy(r.h)
    return bank, torch.tensor([r.direct for r in rirs])


def in_rooms(inputs: torch.Tensor, rate: int, options: RecordingChainOptions,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """A share `reverb_p` of the inputs `(batch, time)` convolved with a room of the bank
    (direct path at gain 1 and time-aligned, so the dry target still matches it); the same
    shape."""
    b = inputs.shape[0]
    on = uniform(b, 0, 1, inputs, generator) < options.reverb_p
    pick = (uniform(b, 0, 1, inputs, generator) * options.reverb_rooms).long()
    pick = pick.clamp(max=options.reverb_rooms - 1)
    rows = on.nonzero()[:, 0]
    if not len(rows):
        return inputs
    bank, direct = room_bank(options.reverb_rooms, options.reverb_seed, rate)
    chosen = pick[rows].cpu()
    out = inputs.clone()
    out[rows] = reverberate(inputs[rows], bank[chosen].to(inputs.device),
                            direct[chosen].to(inputs.device))
    return out


def through_codecs(inputs: torch.Tensor, targets: torch.Tensor, rate: int,
                   options: RecordingChainOptions, generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """A share `codec_p` of the inputs through a lossy codec round-trip (on the CPU); their
    targets lose the band the codec cut (`sepssl.codecs.codec_band`)."""
    for name in options.codecs:
        codecs.check_rate(name, rate)
    b = inputs.shape[0]
    on = uniform(b, 0, 1, inputs, generator) < options.codec_p
    which = (uniform(b, 0, 1, inputs, generator) * len(options.codecs)).long()
    kbps = uniform(b, *options.opus_kbps, inputs, generator)
    rows = on.nonzero()[:, 0]
    if not len(rows):
        return inputs, targets
    names = [options.codecs[min(int(i), len(options.codecs) - 1)] for i in which[rows]]
    coded = codecs.round_trip(inputs[rows], names, kbps[rows].tolist(), rate)
    top = codecs.codec_band(inputs[rows], coded, rate)
    inputs, targets = inputs.clone(), targets.clone()
    inputs[rows] = coded
    targets[rows] = codecs.cut_band(targets[rows], top, rate)
    return inputs, targets
