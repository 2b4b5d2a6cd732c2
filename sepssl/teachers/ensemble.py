"""Several teachers as one: the mean of their aligned speech estimates.

Two enhancers that err differently average to an estimate better than either: DeepFilterNet3
removes more noise and distorts more speech, the shipped default keeps more speech and more
noise. On corpus v2's five adapt domains their mean beat the default on STOI and ESTOI in all
five, on PESQ in four and on SI-SDR in three, where DeepFilterNet3 alone was below it on STOI
in all five (`metrics/adapt_ensemble/README.md`).
"""
from __future__ import annotations

import torch

from . import JOIN
from .base import Teacher


class Ensemble(Teacher):
    """The mean of `members`' estimates, each sample-aligned with the input.

    Args:
        members: two or more teachers.
    """

    def __init__(self, members: list[Teacher]):
        if len(members) < 2:
            raise ValueError("an ensemble needs two or more teachers")
        self.members = members
        self.name = JOIN.join(m.name for m in members)

    @torch.no_grad()
    def enhance(self, wav: torch.Tensor, sample_rate: int) -> torch.Tensor:
        return torch.stack([m.enhance(wav, sample_rate) for m in self.members]).mean(0)

    def describe(self) -> str:
        return "mean of " + " and ".join(m.describe() for m in self.members)
