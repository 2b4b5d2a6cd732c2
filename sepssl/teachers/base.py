"""The teacher interface: noisy speech in, an aligned speech estimate of the same length out."""
from __future__ import annotations

import torch


class Teacher:
    """Subclasses set `name` and implement `enhance`."""

    name: str = ""

    def enhance(self, wav: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """The speech estimate of a mono recording.

        Args:
            wav: `(time,)` float audio at `sample_rate`.
            sample_rate: its rate in Hz.
        Returns:
            `(time,)` at the same rate, sample-aligned with `wav` (no delay).
        """
        raise NotImplementedError

    def describe(self) -> str:
        """What the teacher is, for the adapted model's card."""
        return self.name
