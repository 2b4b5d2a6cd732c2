"""RemixIT (Tzinis et al. 2022): self-training with a teacher that keeps improving.

A teacher separates the user's noisy recordings x into speech s_T and noise n_T = x − s_T; the
student hears s_T + n_T permuted across the batch (a new mixture whose parts are known) and
learns to take it apart again: loss = 0.5·(−SI-SDR speech) + 0.5·(−SI-SDR noise), each
SI-SDR clamped to ±30 dB. The student emits speech; its noise is input − speech, so its two
estimates always sum to its input (mixture consistency by construction). The teacher starts
from any trained sepssl model (`teacher`: noisy_target, mixit, …) and follows the student by
an exponential moving average of the weights (`teacher_update: ema`, momentum 0.99) or is
replaced by it every `replace_every` steps (`replace`).
"""
from __future__ import annotations

import copy
from typing import Literal

import torch
from pydantic import model_validator
from torch import nn

from .. import losses
from ..dsp import mixing
from ..errors import ConfigError
from ..models.inference import InferenceRule
from ..schema import Fraction, Options, PositiveInt, Range
from .base import TASKS, Batch, Task


class Teacher(nn.Module):
    """A frozen enhancer plus the number of student steps seen (kept in checkpoints)."""

    def __init__(self, enhancer: nn.Module):
        super().__init__()
        self.enhancer = enhancer.requires_grad_(False)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        self.enhancer.eval()
        return self.enhancer(wav)

    def become(self, net: nn.Module) -> None:
        """Take the student's architecture (a copy of `net`) and its one-output rule."""
        self.enhancer.net = copy.deepcopy(net).requires_grad_(False)
        self.enhancer.rule = InferenceRule()


def clamped_neg_si_sdr(est: torch.Tensor, ref: torch.Tensor, limit: float = 30.0) -> torch.Tensor:
    return -losses.si_sdr(est, ref).clamp(-limit, limit)


class RemixITOptions(Options):
    name: Literal["remixit"] = "remixit"
    teacher: str | None = None           # model file / checkpoint the teacher starts from
    teacher_update: Literal["ema", "replace"] = "ema"
    momentum: Fraction = 0.99            # ema: teacher <- m·teacher + (1 − m)·student
    replace_every: PositiveInt = 1000    # replace: steps between teacher replacements
    gain_db: Range = (-20.0, 0.0)

    @model_validator(mode="after")
    def _teacher_given(self):
        if not self.teacher:
            raise ValueError("task.teacher: RemixIT needs a trained model to start its teacher "
                             "from, e.g. default (the shipped model) or runs/mixit/model.pt")
        return self


@TASKS.register("remixit", RemixITOptions)
class RemixIT(Task):
    name = "remixit"
    Options = RemixITOptions
    needs = ("speech",)

    @property
    def teacher(self) -> Teacher | None:
        return None if self._helpers is None else self._helpers["teacher"]

    def build_helpers(self, net):
        from ..models.enhancer import load_model

        teacher = Teacher(load_model(self.options.teacher))
        rate = getattr(net, "sample_rate", None)
        if rate is not None and teacher.enhancer.sample_rate != rate:
            raise ConfigError(f"task.teacher: {self.options.teacher} runs at "
                              f"{teacher.enhancer.sample_rate} Hz, the student at {rate} Hz")
        if self.options.teacher_update == "ema" and not _same_shapes(teacher.enhancer.net, net):
            raise ConfigError(f"task.teacher: {self.options.teacher} has another architecture "
                              "than the student, so it cannot follow it by EMA; use "
                              "teacher_update: replace, or a teacher of the student's shape")
        return {"teacher": teacher}

    def before_restore(self, net, state, prefix):
        """A teacher replaced by the student has the student's shapes in the checkpoint."""
        teacher = self.helpers(net)["teacher"]
        key = prefix + "teacher.enhancer.net."
        saved = {k[len(key):]: v.shape for k, v in state.items() if k.startswith(key)}
        own = {k: v.shape for k, v in teacher.enhancer.net.state_dict().items()}
        if saved and saved != own:
            teacher.become(net)

    def after_step(self, net):
        t, o = self.teacher, self.options
        t.steps += 1
        if o.teacher_update == "ema":
            with torch.no_grad():
                for mine, theirs in zip(t.enhancer.net.state_dict().values(),
                                        net.state_dict().values()):
                    if mine.is_floating_point():
                        mine.lerp_(theirs.detach(), 1 - o.momentum)
                    else:
                        mine.copy_(theirs)
        elif int(t.steps) % o.replace_every == 0:
            if not _same_shapes(t.enhancer.net, net):  # first replacement of another shape
                t.become(net)
            else:
                t.enhancer.net.load_state_dict(net.state_dict())

    def make_batch(self, raw, generator=None) -> Batch:
        if self.teacher is None:
            raise ConfigError("task remixit: the teacher is a helper the trainer builds "
                              "(task.helpers(net)) before the first batch")
        x = raw["speech"]
        x = x * (10 ** (mixing.uniform(x.shape[0], *self.options.gain_db, x, generator) / 20))[:, None]
        speech = self.teacher(x).to(x.dtype)
        noise = x - speech
        order = torch.randperm(x.shape[0], generator=generator, device=x.device
                               if generator is None else generator.device).to(x.device)
        noise = noise[order]
        inputs, speech, noise = mixing.peak_normalize(speech + noise, speech, noise)
        return Batch(inputs=inputs, targets=torch.stack([speech, noise], 1))

    def loss(self, est, batch):
        speech = est[:, 0]
        noise = batch.inputs - speech
        return (0.5 * clamped_neg_si_sdr(speech, batch.targets[:, 0])
                + 0.5 * clamped_neg_si_sdr(noise, batch.targets[:, 1])).mean()


def _same_shapes(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape for k in sa)
