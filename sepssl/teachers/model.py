"""A sepssl model file as a teacher (the shipped model by default)."""
from __future__ import annotations

import torch

from .base import Teacher


class ModelTeacher(Teacher):
    """Runs a sepssl enhancer, chunked like `sepssl enhance`, without an attenuation limit
    (the estimate should be the model's speech, not speech with noise mixed back).

    Args:
        spec: a shipped model's name ("default", "noclean") or a model file / checkpoint path.
        device: where it runs.
    """

    def __init__(self, spec: str = "default", device: str = "cpu"):
        from ..models.enhancer import load_model

        self.model = load_model(spec, device=device)
        self.name = spec

    @torch.no_grad()
    def enhance(self, wav: torch.Tensor, sample_rate: int) -> torch.Tensor:
        from ..enhance import enhance_signal

        return enhance_signal(self.model, wav[None], sample_rate, atten_lim_db=None)[0]
