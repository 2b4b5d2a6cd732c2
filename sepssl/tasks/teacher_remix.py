"""Teacher remix: a student learns to undo remixes of a fixed teacher's estimates — RemixIT
(Tzinis et al. 2022) with a frozen, black-box teacher, what `sepssl adapt` trains.

A teacher (any sepssl model, DeepFilterNet3, RNNoise; `sepssl.teachers`) has split each of the
user's noisy recordings y into a speech estimate ŝ and a noise estimate n̂ = y − ŝ, once, before
training; `data.train_speech` holds the ŝ, `data.train_noise` the n̂. The student hears
ŝ_i + n̂_j with the noise of another recording (the loader draws it at random, so noises are
permuted across the batch), at the noise's own level (`snr_db: null`, as RemixIT) or at an SNR
drawn from `snr_db`, with one random gain, and learns to give back ŝ_i. No clean speech and no
noise-only clips are used: both parts come from the user's own recordings. `teacher_distill`
is the same without the remix: the recording itself in, the teacher's ŝ out.
"""
from __future__ import annotations

from typing import Literal

import torch

from ..dsp import mixing
from ..schema import Options, Range
from .base import TASKS, Batch, Task, signal_plus_noise
from .feature_loss import FeatureLossOptions
from .recording_chain import RecordingChainOptions
from .supervised import SignalLossName, signal_loss


class TeacherRemixOptions(Options):
    name: Literal["teacher_remix"] = "teacher_remix"
    snr_db: Range | None = None       # None: each noise estimate at its own level
    gain_db: Range = (-20.0, 0.0)
    loss: SignalLossName = "snr"
    feature_loss: FeatureLossOptions | None = None   # an SSL feature loss on top
    recording_chain: RecordingChainOptions | None = None   # random devices on the input


@TASKS.register("teacher_remix", TeacherRemixOptions)
class TeacherRemix(Task):
    name = "teacher_remix"
    Options = TeacherRemixOptions
    needs = ("speech", "noise")   # the teacher's speech and noise estimates

    def make_batch(self, raw, generator=None) -> Batch:
        o = self.options
        speech, noise = raw["speech"], raw["noise"]
        if o.snr_db is not None:
            return signal_plus_noise(speech, noise, o.snr_db, o.gain_db, generator)
        return speech_in_noise(speech, noise, o.gain_db, generator)

    def loss(self, est: torch.Tensor, batch: Batch) -> torch.Tensor:
        return signal_loss(self.options.loss, est[:, 0], batch.targets[:, 0])


def speech_in_noise(speech: torch.Tensor, noise: torch.Tensor, gain_db, generator=None) -> Batch:
    """Input speech + noise at their own levels, target the speech, one random gain for both
    (after a shared peak limit). Shapes `(batch, time)`."""
    mixture, speech = mixing.peak_normalize(speech + noise, speech)
    gain = (10 ** (mixing.uniform(speech.shape[0], *gain_db, speech, generator) / 20))[:, None]
    return Batch(inputs=mixture * gain, targets=(speech * gain).unsqueeze(1))


class TeacherDistillOptions(TeacherRemixOptions):
    name: Literal["teacher_distill"] = "teacher_distill"
    snr_db: None = None               # nothing is remixed: the recording keeps its own SNR


@TASKS.register("teacher_distill", TeacherDistillOptions)
class TeacherDistill(TeacherRemix):
    """The student hears each recording itself (ŝ_i + n̂_i = y_i, the same crop of both: the
    loader pairs them) and learns to give back the teacher's ŝ_i: distillation, with nothing
    remixed. RemixIT's remixes ŝ_i + n̂_j hold the speech the teacher left in n̂_j, which the
    student learns to remove; here the input is exactly what the student will enhance."""

    name = "teacher_distill"
    Options = TeacherDistillOptions
    paired = True

    def make_batch(self, raw, generator=None) -> Batch:
        return speech_in_noise(raw["speech"], raw["noise"], self.options.gain_db, generator)
