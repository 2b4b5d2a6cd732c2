"""The recording chain on the device: what a microphone, a phone line and a careless gain
stage do to a recording, drawn per example and batched.

Why hand-written: the pieces exist one signal at a time (torchaudio's biquads and μ-law take
one setting per call), but a training batch needs a different microphone, band and clipping
level per example in one pass on the GPU, seeded by the batch's generator. Each piece here
is a few FFT or elementwise tensor operations with per-example parameters, no Python loop
over examples.

Linear pieces (microphone colouration, telephone band) change the speech a listener hears,
so `apply` gives them to the target as well; the others (μ-law coding, clipping, DC, hum)
are damage the enhancer should undo, so they reach the input only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .mixing import EPS, uniform


def random_eq(n_freqs: int, max_db: float, batch: int, like: torch.Tensor,
              generator: torch.Generator | None = None, points: int = 8) -> torch.Tensor:
    """Smooth random magnitude responses: `points` gains uniform in ±`max_db` dB, spaced
    evenly on a log-frequency axis and interpolated linearly between them.

    Args:
        n_freqs: rFFT bins of the signal (`time // 2 + 1`).
        max_db: largest boost or cut, in dB.
        batch: examples.
        like: tensor whose device and dtype the result takes.
        generator: random generator.
        points: control points per response.

    Returns:
        Linear gains, shape `(batch, n_freqs)`.
    """
    db = torch.stack([uniform(batch, -max_db, max_db, like, generator) for _ in range(points)], 1)
    pos = torch.log1p(torch.arange(n_freqs, device=like.device, dtype=like.dtype))
    pos = pos / pos[-1] * (points - 1)
    lo = pos.floor().long().clamp(max=points - 2)
    frac = pos - lo
    curve = db[:, lo] * (1 - frac) + db[:, lo + 1] * frac
    return 10 ** (curve / 20)


def band_pass(n_freqs: int, rate: int, low_hz: float, high_hz: float, like: torch.Tensor
              ) -> torch.Tensor:
    """A brick-wall band `[low_hz, high_hz]` as rFFT gains, shape `(n_freqs,)`."""
    freqs = torch.linspace(0, rate / 2, n_freqs, device=like.device, dtype=like.dtype)
    return ((freqs >= low_hz) & (freqs <= high_hz)).to(like.dtype)


def mu_law(x: torch.Tensor, bits: int = 8) -> torch.Tensor:
    """μ-law companding and quantisation to `bits` bits (G.711's coding noise), `(..., time)`
    in [-1, 1] -> the decoded signal, same shape."""
    mu = 2 ** bits - 1
    y = torch.sign(x) * torch.log1p(mu * x.abs().clamp(max=1)) / math.log1p(mu)
    y = torch.round((y + 1) / 2 * mu) / mu * 2 - 1
    return torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu


def hard_clip(x: torch.Tensor, fraction: torch.Tensor) -> torch.Tensor:
    """Clip each example at `fraction` `(batch,)` of its own peak: `(batch, time)` -> same."""
    top = (x.abs().amax(-1) * fraction).clamp_min(EPS)[:, None]
    return torch.maximum(torch.minimum(x, top), -top)


def hum_draw(batch: int, like: torch.Tensor, generator: torch.Generator | None = None,
             harmonics: int = 5) -> torch.Tensor:
    """Random mains hums: per example the base (50 or 60 Hz), then each harmonic's amplitude
    (falling as 1/k) and phase; shape `(batch, 1 + 2 * harmonics)`, for `hum_wave`."""
    base = torch.where(uniform(batch, 0, 1, like, generator) < 0.5, 50.0, 60.0).to(like.dtype)
    k = torch.arange(1, harmonics + 1, device=like.device, dtype=like.dtype)
    amp = torch.stack([uniform(batch, 0, 1, like, generator) for _ in k], 1) / k
    phase = torch.stack([uniform(batch, 0, 2 * math.pi, like, generator) for _ in k], 1)
    return torch.cat([base[:, None], amp, phase], 1)


def hum_wave(draw: torch.Tensor, time: int, rate: int) -> torch.Tensor:
    """The hums of `hum_draw` `(rows, 1 + 2H)` as unit-RMS waves `(rows, time)`."""
    h = (draw.shape[1] - 1) // 2
    base, amp, phase = draw[:, :1], draw[:, 1:1 + h], draw[:, 1 + h:]
    k = torch.arange(1, h + 1, device=draw.device, dtype=draw.dtype)
    t = torch.arange(time, device=draw.device, dtype=draw.dtype) / rate
    angle = 2 * math.pi * (base * k)[:, :, None] * t + phase[:, :, None]
    y = (amp[:, :, None] * torch.sin(angle)).sum(1)
    return y / (y.pow(2).mean(-1, keepdim=True).sqrt() + EPS)


@dataclass(frozen=True)
class ChainSettings:
    """How often each piece happens (probabilities per example) and how strong it is."""
    eq_p: float = 0.5
    eq_db: float = 6.0
    telephone_p: float = 0.1
    clip_p: float = 0.1
    clip_fraction: tuple[float, float] = (0.3, 0.9)
    hum_p: float = 0.1
    hum_db: tuple[float, float] = (-35.0, -15.0)    # hum level relative to the input's RMS
    dc_p: float = 0.1
    dc_db: tuple[float, float] = (-40.0, -20.0)     # DC offset relative to the input's RMS


def apply(inputs: torch.Tensor, targets: torch.Tensor, rate: int, s: ChainSettings,
          generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pass a batch through random recording chains.

    Args:
        inputs: the model inputs `(batch, time)`.
        targets: what the model should output `(batch, outputs, time)`.
        rate: sample rate in Hz.
        s: the chain's settings.
        generator: random generator (draws are made in a fixed order, so a seeded generator
            gives the same chains).

    Returns:
        The chained inputs and targets, same shapes. Linear pieces (colouration, telephone
        band) go to both, the rest (μ-law, clipping, hum, DC) to the inputs only.
    """
    b, n = inputs.shape
    like = inputs
    one = torch.ones((), dtype=like.dtype, device=like.device)

    def happens(p: float) -> torch.Tensor:
        return uniform(b, 0, 1, like, generator) < p

    # Every draw is made for the whole batch, in this order, whatever happens: a seeded
    # generator gives the same chains on any device.
    n_freqs = n // 2 + 1
    eq_on, eq = happens(s.eq_p), random_eq(n_freqs, s.eq_db, b, like, generator)
    phone = happens(s.telephone_p)
    clip_on, clip_at = happens(s.clip_p), uniform(b, *s.clip_fraction, like, generator)
    hum_on, hum_gain = happens(s.hum_p), 10 ** (uniform(b, *s.hum_db, like, generator) / 20)
    hums = hum_draw(b, like, generator)
    dc_on, dc_gain = happens(s.dc_p), 10 ** (uniform(b, *s.dc_db, like, generator) / 20)
    dc_sign = torch.where(uniform(b, 0, 1, like, generator) < 0.5, -1.0, 1.0).to(like.dtype)

    if bool((eq_on | phone).any()):
        response = (torch.where(eq_on[:, None], eq, one)
                    * torch.where(phone[:, None], band_pass(n_freqs, rate, 300.0, 3400.0, like),
                                  one))
        inputs = torch.fft.irfft(torch.fft.rfft(inputs) * response, n=n)
        targets = torch.fft.irfft(torch.fft.rfft(targets) * response[:, None], n=n)
    inputs = inputs.clone()
    rows = phone.nonzero()[:, 0]
    if len(rows):
        x = inputs[rows]
        peak = x.abs().amax(-1, keepdim=True).clamp_min(EPS)
        inputs[rows] = mu_law(x / peak) * peak
    rows = clip_on.nonzero()[:, 0]
    if len(rows):
        inputs[rows] = hard_clip(inputs[rows], clip_at[rows])
    rms = inputs.pow(2).mean(-1, keepdim=True).sqrt()
    rows = hum_on.nonzero()[:, 0]
    if len(rows):
        wave = hum_wave(hums[rows], n, rate)
        inputs[rows] = inputs[rows] + wave * rms[rows] * hum_gain[rows, None]
    dc = rms * (dc_gain * dc_on * dc_sign)[:, None]
    return inputs + dc, targets
