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
    """Speech-presence classifier: a `FrameGRU` whose per-frame values are speech-presence
    logits `(batch, time // hop + 1)`; `probability` gives one probability per crop.

    Args:
        sample_rate (int, optional): Sample rate of the input, in Hz. (Default: ``16000``)
        n_fft (int, optional): FFT size, in samples. (Default: ``512``)
        hop (int, optional): STFT hop, in samples. (Default: ``256``)
        hidden (int, optional): GRU width per direction. (Default: ``64``)
        layers (int, optional): Number of GRU layers. (Default: ``1``)
        bidirectional (bool, optional): Use a bidirectional GRU. (Default: ``True``)
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, hop: int = 256,
                 hidden: int = 64, layers: int = 1, bidirectional: bool = True):
        super().__init__(sample_rate, n_fft, hop, hidden, layers, bidirectional)

    def probability(self, wav: torch.Tensor) -> torch.Tensor:
        """Speech probability of each whole signal: the sigmoid of the mean frame logit.

        Args:
            wav (torch.Tensor): Signals at `sample_rate`, shape `(..., time)`.

        Returns:
            torch.Tensor: Probabilities in [0, 1], shape `(...)`.
        """
        flat = wav.reshape(-1, wav.shape[-1])
        return torch.sigmoid(self(flat).mean(-1)).reshape(wav.shape[:-1])


def save_speech_detector(model: SpeechDetector, path: str | os.PathLike,
                         card: dict[str, Any] | None = None) -> Path:
    """Write `model` as a weights-only speech detector file.

    Args:
        model (SpeechDetector): The detector.
        path (str or os.PathLike): Output file.
        card (dict or None, optional): Facts about the training run.

    Returns:
        Path: The file written.
    """
    return save_weights(model, path, FORMAT, card)


def load_speech_detector(path: str | os.PathLike, device: str | torch.device = "cpu"
                         ) -> SpeechDetector:
    """Load a detector file written by `train_speech_detector`.

    Args:
        path (str or os.PathLike): The file.
        device (str or torch.device, optional): Where to put the model. (Default: ``"cpu"``)

    Returns:
        SpeechDetector: The detector in eval mode on `device`.

    Raises:
        ModelError: If the file is missing or not a speech detector file.
    """
    return load_weights(path, SpeechDetector, FORMAT, "speech detector",
                        f"`sepssl helper speech-detector --out {path}`", device)


def train_speech_detector(speech_source: str | os.PathLike, noise_source: str | os.PathLike,
                          out_path: str | os.PathLike, steps: int, *, sample_rate: int = 16000,
                          segment_seconds: float = 2.0, batch_size: int = 16,
                          gain_db: tuple[float, float] = (-30.0, 0.0), lr: float = 1e-3,
                          hidden: int = 64, layers: int = 1, seed: int = 0,
                          device: str = "cpu", num_workers: int = 0,
                          progress: bool = True) -> Path:
    """Train a detector on *noisy* speech (label 1) against noise-only crops (label 0), and
    save it.

    Both kinds of crop get random levels in `gain_db`; the loss is binary cross-entropy on the
    crop logit (the mean of the frame logits). No clean speech is needed.

    Args:
        speech_source (str or os.PathLike): Noisy speech recordings.
        noise_source (str or os.PathLike): Noise-only clips.
        out_path (str or os.PathLike): Detector file to write.
        steps (int): Number of training steps.
        sample_rate (int, optional): Sample rate, in Hz. (Default: ``16000``)
        segment_seconds (float, optional): Crop length, in seconds. (Default: ``2.0``)
        batch_size (int, optional): Crops of each kind per batch. (Default: ``16``)
        gain_db (tuple[float, float], optional): Range of crop levels, in dB.
        lr (float, optional): Adam learning rate. (Default: ``1e-3``)
        hidden (int, optional): GRU width per direction. (Default: ``64``)
        layers (int, optional): Number of GRU layers. (Default: ``1``)
        seed (int, optional): Random seed. (Default: ``0``)
        device (str, optional): Device to train on. (Default: ``"cpu"``)
        num_workers (int, optional): Data loader workers. (Default: ``0``)
        progress (bool, optional): Show a progress bar. (Default: ``True``)

    Returns:
        Path: `out_path`.

    Raises:
        ConfigError: If `steps` is below 1.
    """
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
