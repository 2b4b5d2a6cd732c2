"""`InferenceRule`: which of a network's outputs make the enhanced speech, and how.

A task declares its rule (`Task.inference_rule()`); the trainer's validation, `Task.infer` and
every `Enhancer` (so `sepssl enhance`) apply this one module, and a model file stores it as
plain values (plus the speech detector's weights, if any). The rule:

1. mixture consistency (optional): the outputs are projected to sum to the input;
2. speech = the sum of the `speech_outputs`;
3. with a speech detector (MixIT): every other output is added, weighted by its speech
   probability;
4. with `correction_alpha` (Noisier2Noise): trained on z = y + m with m at alpha times the noise
   level, E[x|z] = ((1 + a²)·E[y|z] − z) / a², applied to the observed input.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..dsp import mixing
from .speech_detector import SpeechDetector


class InferenceRule(nn.Module):
    """Outputs `(batch, n_outputs, time)` of a network and its input `(batch, time)` → speech.

    Args:
        n_outputs: outputs the network emits.
        speech_outputs: the outputs that are speech (summed).
        mixture_consistency: project the outputs to sum to the input first.
        correction_alpha: the Noisier2Noise correction's alpha (None: off).
        speech_detector: weighs the other outputs by their speech probability (None: dropped).
    """

    def __init__(self, n_outputs: int = 1, speech_outputs: list[int] | tuple[int, ...] = (0,),
                 mixture_consistency: bool = False, correction_alpha: float | None = None,
                 speech_detector: SpeechDetector | None = None):
        super().__init__()
        self.n_outputs = int(n_outputs)
        self.speech_outputs = [int(m) for m in speech_outputs]
        if not self.speech_outputs or not all(0 <= m < self.n_outputs for m in self.speech_outputs):
            raise ValueError(f"speech outputs {self.speech_outputs} are not among the "
                             f"{self.n_outputs} outputs")
        self.others = [m for m in range(self.n_outputs) if m not in self.speech_outputs]
        self.mixture_consistency = bool(mixture_consistency)
        self.correction_alpha = correction_alpha
        self.detector = speech_detector
        if speech_detector is not None:
            speech_detector.requires_grad_(False).eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.detector is not None:
            self.detector.eval()  # frozen: no dropout, whatever the trainer does
        return self

    def consistent(self, est: torch.Tensor, wav: torch.Tensor) -> torch.Tensor:
        """Step 1: the outputs, projected to sum to `wav` if the rule says so."""
        return mixing.mixture_consistency(est, wav) if self.mixture_consistency else est

    def forward(self, est: torch.Tensor, wav: torch.Tensor) -> torch.Tensor:
        """Steps 2–4 on outputs that went through `consistent`. Returns `(batch, time)`."""
        speech = est[:, self.speech_outputs].sum(1)
        if self.detector is not None and self.others:
            weights = self.detector.probability(est[:, self.others]).to(est.dtype)
            speech = speech + (weights.unsqueeze(-1) * est[:, self.others]).sum(1)
        if self.correction_alpha:
            a2 = self.correction_alpha ** 2
            speech = ((1 + a2) * speech - wav) / a2
        return speech

    def to_dict(self) -> dict[str, Any]:
        """Plain values (and the detector's tensors) as a model file stores them."""
        return {"n_outputs": self.n_outputs, "speech_outputs": list(self.speech_outputs),
                "mixture_consistency": self.mixture_consistency,
                "correction_alpha": self.correction_alpha,
                "speech_detector": None if self.detector is None else {
                    "config": self.detector.config,
                    "state_dict": {k: v.detach().cpu()
                                   for k, v in self.detector.state_dict().items()}}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InferenceRule":
        """The rule a model file (or `to_dict`) describes."""
        detector = None
        entry = data.get("speech_detector")
        if entry is not None:
            detector = SpeechDetector(**entry["config"])
            detector.load_state_dict(entry["state_dict"])
        return cls(n_outputs=data.get("n_outputs", 1),
                   speech_outputs=data.get("speech_outputs") or [0],
                   mixture_consistency=bool(data.get("mixture_consistency", False)),
                   correction_alpha=data.get("correction_alpha"), speech_detector=detector)
