"""Contrastive mixtures (Sivaraman & Kim): PseudoSE's noisy-target training plus a contrastive
term over pairs of training mixtures. No clean speech.

A premixture s is a noisy recording (the pseudo-source). Each example i of a raw batch of B
gives three rows, all with the same random level:

    rows [0, B)    x_a = s_i     + n_i     at SNR a_i   target s_i
    rows [B, 2B)   x_b = s_i     + n_{i-1} at SNR b_i   target s_i       positive of row i
    rows [2B, 3B)  x_n = s_{i-1} + n_i     at SNR a_i   target s_{i-1}   negative of row i

(`i-1` is `torch.roll` by one over the batch, so B ≥ 2; the loader shuffles, so neighbours are
random.) A positive pair is one premixture with two different added noises; a negative pair is
two premixtures with the same added noise at the same SNR. `Batch.inputs` is `(3B, time)`,
`Batch.targets` `(3B, 1, time)`.

Loss = mean −SNR of every row against its premixture
     + λp · mean over positives of d(y_a, y_b)
     + λn · mean over negatives of max(0, D(t_a, t_n) − D(y_a, y_n)).
d is an SNR-like distance in dB relative to the outputs' own mean energy e = (‖y_a‖² + ‖y_b‖²)/2,
10·log10((‖y_a − y_b‖² + τe) / e), with a −30 dB floor (τ) as the SNR loss's soft cap. It is
scale-invariant on purpose: measured against the *target's* energy, it rewards outputs for
getting quieter (two silent outputs agree perfectly; recipes/contrastive_mixtures/README.md has
the run that did). D(u, v) = 10·log10 ‖u − v‖²: the hinge compares the two in dB, where
any common normaliser cancels, so it is zero once the outputs of a negative pair are at least as
far apart as their targets — the network must not map different speech to the same output
because the noise was the same. Hand-written: no library implements the method.
"""
from __future__ import annotations

from typing import Literal

import torch

from .. import losses
from ..dsp import mixing
from ..errors import ConfigError
from ..schema import NonNegativeFloat, Options, Range
from .base import TASKS, Batch, Task

EPS = 1e-8
POSITIVE_FLOOR_DB = -30.0


def _energy_db(x: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(x.pow(2).sum(-1) + EPS)


def positive_distance(y_a: torch.Tensor, y_b: torch.Tensor) -> torch.Tensor:
    """d(y_a, y_b) in dB relative to the outputs' mean energy, floored at −30 dB; `(batch,)`.
    The same at any common level of the two outputs, so shrinking them never brings them closer."""
    ref = 0.5 * (y_a.pow(2).sum(-1) + y_b.pow(2).sum(-1))
    diff = (y_a - y_b).pow(2).sum(-1)
    return 10 * torch.log10((diff + 10 ** (POSITIVE_FLOOR_DB / 10) * ref + EPS) / (ref + EPS))


def negative_hinge(y_a: torch.Tensor, y_n: torch.Tensor, t_a: torch.Tensor, t_n: torch.Tensor
                   ) -> torch.Tensor:
    """max(0, D(t_a, t_n) − D(y_a, y_n)) in dB, `(batch,)`: zero once the outputs are at least
    as far apart as the targets."""
    return torch.relu(_energy_db(t_a - t_n) - _energy_db(y_a - y_n))


class ContrastiveMixturesOptions(Options):
    name: Literal["contrastive_mixtures"] = "contrastive_mixtures"
    snr_db: Range = (-5.0, 5.0)          # SNR of the premixture vs the added noise
    gain_db: Range = (-20.0, 0.0)        # level augmentation (one per triplet)
    lambda_pos: NonNegativeFloat = 1.0   # weight of the positive-pair distance
    lambda_neg: NonNegativeFloat = 1.0   # weight of the negative-pair hinge


@TASKS.register("contrastive_mixtures", ContrastiveMixturesOptions)
class ContrastiveMixtures(Task):
    name = "contrastive_mixtures"
    Options = ContrastiveMixturesOptions
    needs = ("speech", "noise")

    @classmethod
    def check_batch_size(cls, options, batch_size):
        return None if batch_size >= 2 else f"contrastive_mixtures pairs each example with another one of its batch, so it needs at least 2 (got {batch_size})"

    def make_batch(self, raw, generator=None) -> Batch:
        speech, noise = raw["speech"], raw["noise"]
        b = speech.shape[0]
        if b < 2:
            raise ConfigError("data.batch_size: contrastive_mixtures pairs each example with "
                              f"another one of its batch, so it needs at least 2 (got {b})")
        o = self.options
        other_speech, other_noise = speech.roll(1, 0), noise.roll(1, 0)
        snr_a = mixing.uniform(b, *o.snr_db, speech, generator)
        snr_b = mixing.uniform(b, *o.snr_db, speech, generator)
        x_a, _ = mixing.mix_at_snr(speech, noise, snr_a)
        x_b, _ = mixing.mix_at_snr(speech, other_noise, snr_b)
        x_n, _ = mixing.mix_at_snr(other_speech, noise, snr_a)
        x_a, x_b, x_n, t_a, t_n = mixing.peak_normalize(x_a, x_b, x_n, speech, other_speech)
        gain = (10 ** (mixing.uniform(b, *o.gain_db, speech, generator) / 20))[:, None]
        inputs = torch.cat([x_a, x_b, x_n]) * gain.repeat(3, 1)
        targets = torch.cat([t_a, t_a, t_n]) * gain.repeat(3, 1)
        return Batch(inputs=inputs, targets=targets.unsqueeze(1))

    def terms(self, est: torch.Tensor, batch: Batch) -> dict[str, torch.Tensor]:
        """The three loss terms, unweighted (for logging and tests)."""
        y, t = est[:, 0], batch.targets[:, 0]
        if y.shape[0] != t.shape[0] or y.shape[0] % 3:
            raise ValueError(f"expected 3·B rows laid out as make_batch makes them, got "
                             f"{y.shape[0]} estimates for {t.shape[0]} targets")
        b = y.shape[0] // 3
        y_a, y_b, y_n = y[:b], y[b:2 * b], y[2 * b:]
        t_a, t_n = t[:b], t[2 * b:]
        return {"signal": losses.neg_snr(y, t),
                "positive": positive_distance(y_a, y_b).mean(),
                "negative": negative_hinge(y_a, y_n, t_a, t_n).mean()}

    def loss(self, est, batch):
        parts = self.terms(est, batch)
        return (parts["signal"] + self.options.lambda_pos * parts["positive"]
                + self.options.lambda_neg * parts["negative"])
