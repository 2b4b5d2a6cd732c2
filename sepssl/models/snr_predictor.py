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
    """Hann-windowed frames, centred like `torch.stft(center=True)` (one per STFT column) but
    padded with zeros, so that edge frames hold no mirrored signal.

    Args:
        x (torch.Tensor): Signal, shape `(..., time)`.
        n_fft (int, optional): Frame length, in samples. (Default: ``1024``)
        hop (int, optional): Hop between frames, in samples. (Default: ``256``)

    Returns:
        torch.Tensor: Frames, shape `(..., time // hop + 1, n_fft)`.
    """
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

    Args:
        signal (torch.Tensor): Signal, shape `(..., time)`.
        noise (torch.Tensor): Noise (or error), same shape.
        n_fft (int, optional): Frame length, in samples. (Default: ``1024``)
        hop (int, optional): Hop between frames, in samples. (Default: ``256``)
        soft_cap_db (float or None, optional): Soft cap in dB; ``None``: no cap.
            (Default: ``None``)
        eps (float, optional): Floor against division by zero and log of zero.

    Returns:
        torch.Tensor: SNR in dB, shape `(..., time // hop + 1)`.
    """
    s = frames(signal, n_fft, hop).pow(2).sum(-1)
    n = frames(noise, n_fft, hop).pow(2).sum(-1)
    if soft_cap_db is not None:
        n = n + 10 ** (-soft_cap_db / 10) * s
    return 10 * torch.log10((s + eps) / (n + eps))


class SNRPredictor(FrameGRU):
    """Predicts the segmental SNR in dB of each frame of a noisy recording: a `FrameGRU` with
    the 1024 / 256 framing of `segmental_snr`, so its output `(batch, time // hop + 1)` lines up
    with that function's frames.

    Args:
        sample_rate (int, optional): Sample rate of the input, in Hz. (Default: ``16000``)
        n_fft (int, optional): FFT size, in samples. (Default: ``1024``)
        hop (int, optional): STFT hop, in samples. (Default: ``256``)
        hidden (int, optional): GRU width per direction. (Default: ``128``)
        layers (int, optional): Number of GRU layers. (Default: ``2``)
        bidirectional (bool, optional): Use a bidirectional GRU. (Default: ``True``)
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = N_FFT, hop: int = HOP,
                 hidden: int = 128, layers: int = 2, bidirectional: bool = True):
        super().__init__(sample_rate, n_fft, hop, hidden, layers, bidirectional)


def save_snr_predictor(model: SNRPredictor, path: str | os.PathLike,
                       card: dict[str, Any] | None = None) -> Path:
    """Write `model` as a weights-only SNR predictor file.

    Args:
        model (SNRPredictor): The predictor.
        path (str or os.PathLike): Output file.
        card (dict or None, optional): Facts about the training run.

    Returns:
        Path: The file written.
    """
    return save_weights(model, path, FORMAT, card)


def load_snr_predictor(path: str | os.PathLike, device: str | torch.device = "cpu"
                       ) -> SNRPredictor:
    """Load a predictor file written by `train_snr_predictor`.

    Args:
        path (str or os.PathLike): The file.
        device (str or torch.device, optional): Where to put the model. (Default: ``"cpu"``)

    Returns:
        SNRPredictor: The predictor in eval mode on `device`.

    Raises:
        ModelError: If the file is missing or not an SNR predictor file.
    """
    return load_weights(path, SNRPredictor, FORMAT, "SNR predictor",
                        f"`sepssl helper snr-predictor --out {path}`", device)


def train_snr_predictor(speech_source: str | os.PathLike, noise_source: str | os.PathLike,
                        out_path: str | os.PathLike, steps: int, *, sample_rate: int = 16000,
                        segment_seconds: float = 2.0, batch_size: int = 16,
                        snr_db: tuple[float, float] = (-10.0, 10.0),
                        gain_db: tuple[float, float] = (-20.0, 0.0),
                        target_range_db: tuple[float, float] = (-30.0, 30.0),
                        lr: float = 1e-3, hidden: int = 128, layers: int = 2,
                        seed: int = 0, device: str = "cpu", num_workers: int = 0,
                        progress: bool = True) -> Path:
    """Train an SNR predictor on *clean* speech and noise mixed on the fly, and save it.

    Each step mixes a batch of speech and noise crops at SNRs uniform in `snr_db`, applies a
    random level, and regresses the true segmental SNR of every frame (clipped to
    `target_range_db`: below −30 dB or above 30 dB the purification weight no longer changes)
    with a Huber loss in dB.

    Args:
        speech_source (str or os.PathLike): Clean speech.
        noise_source (str or os.PathLike): Noise.
        out_path (str or os.PathLike): Predictor file to write.
        steps (int): Number of training steps.
        sample_rate (int, optional): Sample rate, in Hz. (Default: ``16000``)
        segment_seconds (float, optional): Crop length, in seconds. (Default: ``2.0``)
        batch_size (int, optional): Crops per batch. (Default: ``16``)
        snr_db (tuple[float, float], optional): Range of mixing SNRs, in dB.
        gain_db (tuple[float, float], optional): Range of mixture levels, in dB.
        target_range_db (tuple[float, float], optional): Clipping range of the targets, in dB.
        lr (float, optional): Adam learning rate. (Default: ``1e-3``)
        hidden (int, optional): GRU width per direction. (Default: ``128``)
        layers (int, optional): Number of GRU layers. (Default: ``2``)
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
