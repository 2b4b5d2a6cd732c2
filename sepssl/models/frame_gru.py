"""A small GRU over STFT log-magnitudes that gives one value per frame, and its weights-only
files. Two helpers of the self-supervised tasks use it: PseudoSE's SNR predictor (the value is
a segmental SNR in dB) and MixIT's speech detector (the value is a speech-presence logit).

Hand-written because no library ships such a frame-level scorer that small; files hold tensors
and plain values only and load with `torch.load(weights_only=True)`.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..dsp.stft import stft
from ..errors import ModelError


class FrameGRU(nn.Module):
    """GRU over STFT log-magnitudes that gives one value per STFT frame.

    Features are log-magnitudes centred per example, so the values do not depend on the
    recording level. Bidirectional by default (these scorers run offline, on whole crops).

    Args:
        sample_rate (int, optional): Sample rate of the input, in Hz. (Default: ``16000``)
        n_fft (int, optional): FFT size, in samples. (Default: ``1024``)
        hop (int, optional): STFT hop, in samples. (Default: ``256``)
        hidden (int, optional): GRU width per direction. (Default: ``128``)
        layers (int, optional): Number of GRU layers. (Default: ``2``)
        bidirectional (bool, optional): Use a bidirectional GRU. (Default: ``True``)
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 1024, hop: int = 256,
                 hidden: int = 128, layers: int = 2, bidirectional: bool = True):
        super().__init__()
        self.sample_rate, self.n_fft, self.hop = sample_rate, n_fft, hop
        self.hidden, self.layers, self.bidirectional = hidden, layers, bidirectional
        self.rnn = nn.GRU(n_fft // 2 + 1, hidden, num_layers=layers, batch_first=True,
                          bidirectional=bidirectional)
        self.out = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments, as stored in the model's file."""
        return {"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop": self.hop,
                "hidden": self.hidden, "layers": self.layers,
                "bidirectional": self.bidirectional}

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """One value per STFT frame, computed in float32.

        Args:
            wav (torch.Tensor): Input at `sample_rate`, shape `(batch, time)`.

        Returns:
            torch.Tensor: Values, shape `(batch, time // hop + 1)`.
        """
        n_frames = wav.shape[-1] // self.hop + 1
        if wav.shape[-1] < self.n_fft:  # torch.stft's reflect padding needs n_fft // 2 samples
            wav = nn.functional.pad(wav, (0, self.n_fft - wav.shape[-1]))
        with torch.autocast(wav.device.type, enabled=False):  # FFTs and the GRU in float32
            spec = stft(wav.float(), self.n_fft, self.hop)              # (B, F, N)
            feats = torch.log(spec.abs() + 1e-5).transpose(1, 2)        # (B, N, F)
            feats = feats - feats.mean(dim=(1, 2), keepdim=True)
            hidden, _ = self.rnn(feats)
            return self.out(hidden)[..., 0][:, :n_frames]


def save_weights(model: FrameGRU, path: str | os.PathLike, file_format: str,
                 card: dict[str, Any] | None = None) -> Path:
    """Write `model` as a weights-only file (atomically: temporary file, then rename).

    Args:
        model (FrameGRU): The model to save.
        path (str or os.PathLike): Output file.
        file_format (str): Format tag stored in the file and checked by `load_weights`.
        card (dict or None, optional): Facts about the training run, stored as they are.

    Returns:
        Path: The file written.
    """
    from ..files import save_weights_file

    data = {"format": file_format, "config": model.config, "card": dict(card or {}),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    return save_weights_file(data, path)


def load_weights(path: str | os.PathLike, cls: type[FrameGRU], file_format: str, what: str,
                 how_to_train: str, device: str | torch.device = "cpu") -> FrameGRU:
    """Load a file written by `save_weights`.

    Args:
        path (str or os.PathLike): The file.
        cls (type[FrameGRU]): Class to build from the stored config.
        file_format (str): Format tag the file must carry.
        what (str): What the file holds, for error messages (e.g. "SNR predictor").
        how_to_train (str): How to make such a file, for the not-found message.
        device (str or torch.device, optional): Where to put the model. (Default: ``"cpu"``)

    Returns:
        FrameGRU: An instance of `cls` in eval mode on `device`, with the file's card as `.card`.

    Raises:
        ModelError: If the file is missing, not loadable, of another format, or its weights do
            not match its config.
    """
    from ..files import first_line, load_weights_file

    path = Path(path)
    data = load_weights_file(path, what, f"; train one with {how_to_train}")
    if not isinstance(data, dict) or data.get("format") != file_format:
        raise ModelError(f"{path}: not a file of the {what} kind (expected format {file_format})")
    try:
        model = cls(**data["config"])
        model.load_state_dict(data["state_dict"])
    except Exception as exc:
        raise ModelError(f"{path}: weights do not match the {what} it describes "
                         f"({first_line(exc)})") from None
    model.card = data.get("card", {})
    return model.eval().to(device)


def fit(build, speech_source, noise_source, steps: int, batch_loss, *,
        segment_seconds: float, batch_size: int, lr: float, seed: int, device: str,
        num_workers: int, desc: str, progress: bool) -> tuple[FrameGRU, dict[str, Any]]:
    """Train a frame scorer with Adam on random crops of speech and noise.

    A plain loop: a few thousand steps of a small GRU need none of Lightning's machinery.

    Args:
        build (Callable[[], FrameGRU]): Makes the model (called after seeding).
        speech_source (str or os.PathLike): Speech: a folder or a .txt/.csv file list.
        noise_source (str or os.PathLike): Noise, likewise.
        steps (int): Number of optimiser steps (at least 1).
        batch_loss (Callable): `batch_loss(model, speech, noise, generator)` → scalar loss of
            one batch; `speech` and `noise` have shape `(batch, time)`.
        segment_seconds (float): Crop length, in seconds.
        batch_size (int): Crops per batch.
        lr (float): Adam learning rate.
        seed (int): Seed of the model, the data order and the batch generator.
        device (str): Device to train on.
        num_workers (int): Data loader workers.
        desc (str): Name in the progress bar and messages.
        progress (bool): Show a progress bar.

    Returns:
        (FrameGRU, dict[str, Any]): The model (on the CPU, in eval mode) and the facts its
        file's card records (data, settings, first / last losses, training time, torch version).

    Raises:
        ConfigError: If `steps` is below 1.
    """
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from ..data.datasets import RawClips
    from ..errors import ConfigError

    if steps < 1:
        raise ConfigError(f"steps: {steps} — train the {desc} for at least one step")
    torch.manual_seed(seed)
    model = build()
    data = RawClips({"speech": speech_source, "noise": noise_source}, model.sample_rate,
                    segment_seconds, items_per_epoch=steps * batch_size)  # one epoch = `steps` batches
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True,
                        num_workers=num_workers)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator(device).manual_seed(seed)
    history: list[float] = []
    started = time.time()
    with tqdm(total=steps, desc=desc, unit="step", disable=not progress) as bar:
        for raw in loader:
            loss = batch_loss(model, raw["speech"].to(device), raw["noise"].to(device), gen)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            history.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{history[-1]:.3f}")
    model.cpu().eval()
    tail = max(1, min(10, len(history) // 2))
    return model, {"trained_on": {"speech": str(speech_source), "noise": str(noise_source)},
                   "steps": len(history), "batch_size": batch_size,
                   "segment_seconds": segment_seconds, "lr": lr,
                   "loss_first_steps": sum(history[:tail]) / tail,
                   "loss_last_steps": sum(history[-tail:]) / tail,
                   "train_seconds": round(time.time() - started, 1),
                   "torch": str(torch.__version__)}
