"""MixIT's speech detector: which of a model's outputs carry speech, learnt without clean speech.

MixIT for enhancement (`sepssl.tasks.mixit`) only forbids the noise-only reference from taking
the speech output; a "noise" output that carries speech is assigned to the noisy-speech mixture
at no cost, so a MixIT model spreads speech over its outputs and keeping output 0 alone throws
part of it away. This detector classifies the outputs instead. It is trained on what a user
without clean speech has: their noisy recordings (label: speech) against noise-only clips
(label: no speech). It is a `frame_gru.FrameGRU` whose per-frame values are speech-presence
logits; a crop's logit is their mean. The enhancer adds every further output weighted by its
speech probability to its speech output(s).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..dsp import mixing
from .frame_gru import FrameGRU, fit, load_weights, save_weights

FORMAT = "sepssl-speech-detector/1"


class SpeechDetector(FrameGRU):
    """`(batch, time)` → per-frame speech-presence logits; `probability` gives one per crop."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, hop: int = 256,
                 hidden: int = 64, layers: int = 1, bidirectional: bool = True):
        super().__init__(sample_rate, n_fft, hop, hidden, layers, bidirectional)

    def probability(self, wav: torch.Tensor) -> torch.Tensor:
        """`(..., time)` → speech probability `(...)` of each whole signal."""
        flat = wav.reshape(-1, wav.shape[-1])
        return torch.sigmoid(self(flat).mean(-1)).reshape(wav.shape[:-1])


def save_speech_detector(model: SpeechDetector, path: str | os.PathLike,
                         card: dict[str, Any] | None = None) -> Path:
    return save_weights(model, path, FORMAT, card)


def load_speech_detector(path: str | os.PathLike, device: str | torch.device = "cpu"
                         ) -> SpeechDetector:
    """A detector file written by `train_speech_detector`, in eval mode on `device`."""
    return load_weights(path, SpeechDetector, FORMAT, "speech detector",
                        f"`python recipes/mixit/train_speech_detector.py --out {path}` "
                        "(see recipes/mixit/README.md)", device)


def model_file_entry(path: str | os.PathLike) -> dict[str, Any]:
    """The detector file at `path` as an enhancer model file stores it (`speech_detector`)."""
    detector = load_speech_detector(path)
    return {"config": detector.config, "state_dict": detector.state_dict()}


def train_speech_detector(speech_source: str | os.PathLike, noise_source: str | os.PathLike,
                          out_path: str | os.PathLike, steps: int, *, sample_rate: int = 16000,
                          segment_seconds: float = 2.0, batch_size: int = 16,
                          gain_db: tuple[float, float] = (-30.0, 0.0), lr: float = 1e-3,
                          hidden: int = 64, layers: int = 1, seed: int = 0,
                          device: str = "cpu", num_workers: int = 0,
                          progress: bool = True) -> Path:
    """Train a detector on NOISY speech (label 1) against noise-only crops (label 0), both at
    random levels in `gain_db`, with binary cross-entropy on the crop logit; returns
    `out_path`. No clean speech is needed."""
    def batch_loss(model, speech, noise, gen):
        crops = mixing.random_gain_db(torch.cat([speech, noise]), *gain_db, gen)
        labels = torch.cat([torch.ones(len(speech)), torch.zeros(len(noise))]).to(crops)
        return nn.functional.binary_cross_entropy_with_logits(model(crops).mean(-1), labels)

    def build():
        return SpeechDetector(sample_rate=sample_rate, hidden=hidden, layers=layers)

    model, card = fit(build, speech_source, noise_source, steps, batch_loss,
                      segment_seconds=segment_seconds, batch_size=batch_size, lr=lr, seed=seed,
                      device=device, num_workers=num_workers, desc="speech detector",
                      progress=progress)
    card.update(gain_db=list(gain_db))
    return save_speech_detector(model, out_path, card)
