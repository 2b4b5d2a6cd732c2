"""Data purification's SNR predictor (Sivaraman & Kim): a GRU over STFT log-magnitudes that
estimates, frame by frame, the segmental SNR of a noisy recording.

PseudoSE (`sepssl.tasks.pseudose`) turns these estimates into per-frame weights for its noisy
targets, so that frames of the pseudo-source that are mostly noise count less. The predictor is
generic: it is trained once on clean speech mixed with noise at −10…10 dB (like the paper's),
never on the user's recordings, and the enhancer trained with its weights never sees clean
speech. The network is `frame_gru.FrameGRU`; the training loop is a plain one (a few thousand
steps of a small GRU need none of Lightning's machinery).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..dsp import mixing
from .frame_gru import FrameGRU, fit, load_weights, save_weights

FORMAT = "sepssl-snr-predictor/1"
N_FFT = 1024
HOP = 256
EPS = 1e-8


def frames(x: torch.Tensor, n_fft: int = N_FFT, hop: int = HOP) -> torch.Tensor:
    """Hann-windowed frames `(..., n_frames, n_fft)` of `(..., time)`, centred like
    `torch.stft(center=True)` (so `time // hop + 1` frames, one per STFT column) but padded
    with zeros, so that edge frames hold no mirrored signal."""
    padded = nn.functional.pad(x, (n_fft // 2, n_fft // 2))
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    return padded.unfold(-1, n_fft, hop) * window


def segmental_snr(signal: torch.Tensor, noise: torch.Tensor, n_fft: int = N_FFT,
                  hop: int = HOP, soft_cap_db: float | None = None, eps: float = EPS
                  ) -> torch.Tensor:
    """Per-frame SNR in dB `(..., n_frames)` of `signal` against `noise` (both `(..., time)`).

    The predictor's training target (noise = the noise in the mixture) and, with noise =
    reference − estimate, the frame-weighted loss of PseudoSE. With `soft_cap_db`, frames are
    scored `10·log10(S / (N + τS))`, τ = 10^(−cap/10), so that already-solved frames stop
    pulling the gradient (as `losses.snr` does per example). Frames where both are silent are
    0 dB.
    """
    s = frames(signal, n_fft, hop).pow(2).sum(-1)
    n = frames(noise, n_fft, hop).pow(2).sum(-1)
    if soft_cap_db is not None:
        n = n + 10 ** (-soft_cap_db / 10) * s
    return 10 * torch.log10((s + eps) / (n + eps))


class SNRPredictor(FrameGRU):
    """`(batch, time)` → predicted segmental SNR in dB `(batch, time // hop + 1)`: a `FrameGRU`
    with the 1024 / 256 framing of `segmental_snr`."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = N_FFT, hop: int = HOP,
                 hidden: int = 128, layers: int = 2, bidirectional: bool = True):
        super().__init__(sample_rate, n_fft, hop, hidden, layers, bidirectional)


def save_snr_predictor(model: SNRPredictor, path: str | os.PathLike,
                       card: dict[str, Any] | None = None) -> Path:
    """Write `model` as a weights-only file."""
    return save_weights(model, path, FORMAT, card)


def load_snr_predictor(path: str | os.PathLike, device: str | torch.device = "cpu"
                       ) -> SNRPredictor:
    """A predictor file written by `train_snr_predictor`, in eval mode on `device`."""
    return load_weights(path, SNRPredictor, FORMAT, "SNR predictor",
                        f"`python recipes/pseudose/train_snr_predictor.py --out {path}` "
                        "(see recipes/pseudose/README.md)", device)


def train_snr_predictor(speech_source: str | os.PathLike, noise_source: str | os.PathLike,
                        out_path: str | os.PathLike, steps: int, *, sample_rate: int = 16000,
                        segment_seconds: float = 2.0, batch_size: int = 16,
                        snr_db: tuple[float, float] = (-10.0, 10.0),
                        gain_db: tuple[float, float] = (-20.0, 0.0),
                        target_range_db: tuple[float, float] = (-30.0, 30.0),
                        lr: float = 1e-3, hidden: int = 128, layers: int = 2,
                        seed: int = 0, device: str = "cpu", num_workers: int = 0,
                        progress: bool = True) -> Path:
    """Train an SNR predictor on CLEAN speech + noise mixed on the fly; returns `out_path`.

    Each step mixes a batch of speech and noise crops at SNRs uniform in `snr_db`, applies a
    random level, and regresses the true segmental SNR of every frame (clipped to
    `target_range_db`: below −30 dB or above 30 dB the purification weight no longer changes)
    with a Huber loss in dB.
    """
    def batch_loss(model, speech, noise, gen):
        snr = mixing.uniform(speech.shape[0], *snr_db, speech, gen)
        mixture, scaled = mixing.mix_at_snr(speech, noise, snr)
        mixture = mixing.random_gain_db(mixture, *gain_db, gen)
        target = segmental_snr(speech, scaled, model.n_fft, model.hop).clamp(*target_range_db)
        return nn.functional.smooth_l1_loss(model(mixture), target)

    def build():
        return SNRPredictor(sample_rate=sample_rate, hidden=hidden, layers=layers)

    model, card = fit(build, speech_source, noise_source, steps, batch_loss,
                      segment_seconds=segment_seconds, batch_size=batch_size, lr=lr, seed=seed,
                      device=device, num_workers=num_workers, desc="SNR predictor",
                      progress=progress)
    card.update(snr_db=list(snr_db), target_range_db=list(target_range_db))
    return save_snr_predictor(model, out_path, card)
