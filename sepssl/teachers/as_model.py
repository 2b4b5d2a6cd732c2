"""A teacher in the shape of a sepssl model, so that `sepssl.enhance` can run it on files.

`sepssl adapt --outputs teacher` writes the teacher's estimates of the user's recordings
instead of the adapted student's: on the recordings it adapted on, the student kept a third to
two thirds of the teacher's gain (`metrics/adapt_ensemble/README.md`). Going through
`enhance_paths` keeps `enhance`'s rules for those files (each input's rate, channels, format
and layout, atomic writes, per-file errors, the attenuation limit); `enhance_stream` needs only
`sample_rate`, `parameters()` and `(batch, time)` in and out.
"""
from __future__ import annotations

import torch

from .base import Teacher


class TeacherModel(torch.nn.Module):
    """`teacher` run on each row of a `(batch, time)` tensor at `sample_rate`.

    Args:
        teacher: any `Teacher` (it resamples to its own rate itself).
        sample_rate: the rate it is given audio at: the student's, at which `adapt` ran it
            (above it, `enhance` extends the band as it does for the student).
        atten_lim_db: the limit `enhance` applies when asked for the model's own setting.
    """

    def __init__(self, teacher: Teacher, sample_rate: int, atten_lim_db: float | None = None):
        super().__init__()
        self.teacher, self.sample_rate, self.atten_lim_db = teacher, sample_rate, atten_lim_db
        # `enhance_stream` finds the device from the parameters; a teacher has none of its own
        self.register_parameter("_device", torch.nn.Parameter(torch.empty(0),
                                                              requires_grad=False))

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = [self.teacher.enhance(row.cpu(), self.sample_rate).to(x.device) for row in x]
        return torch.stack(rows).to(x.dtype)
