"""Data purification's SNR predictor (Sivaraman & Kim): a GRU over STFT log-magnitudes that
estimates, frame by frame, the segmental SNR of a noisy recording.

PseudoSE (`sepssl.tasks.pseudose`) turns these estimates into per-frame weights for its noisy
targets, so that frames of the pseudo-source that are mostly noise count less. The predictor is
generic: it is trained once on clean speech mixed with noise at −10…10 dB (like the paper's),
never on the user's recordings, and the enhancer trained with its weights never sees clean
speech. Hand-written because no library ships a frame-level SNR estimator; the training loop is
a plain one (a few thousand steps of a small GRU need none of Lightning's machinery).

Files hold tensors and plain values only and load with `torch.load(weights_only=True)`.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..dsp import mixing
from ..dsp.stft import stft
from ..errors import ConfigError, ModelError

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


class SNRPredictor(nn.Module):
    """`(batch, time)` → predicted segmental SNR in dB `(batch, time // hop + 1)`.

    Features are log-magnitudes centred per example, so the estimate does not depend on the
    recording level (SNR does not either). Bidirectional by default: it only weights training
    frames offline, so future context costs nothing.
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = N_FFT, hop: int = HOP,
                 hidden: int = 128, layers: int = 2, bidirectional: bool = True):
        super().__init__()
        self.sample_rate, self.n_fft, self.hop = sample_rate, n_fft, hop
        self.hidden, self.layers, self.bidirectional = hidden, layers, bidirectional
        self.rnn = nn.GRU(n_fft // 2 + 1, hidden, num_layers=layers, batch_first=True,
                          bidirectional=bidirectional)
        self.out = nn.Linear(hidden * (2 if bidirectional else 1), 1)

    @property
    def config(self) -> dict[str, Any]:
        return {"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop": self.hop,
                "hidden": self.hidden, "layers": self.layers,
                "bidirectional": self.bidirectional}

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        n_frames = wav.shape[-1] // self.hop + 1
        if wav.shape[-1] < self.n_fft:  # torch.stft's reflect padding needs n_fft // 2 samples
            wav = nn.functional.pad(wav, (0, self.n_fft - wav.shape[-1]))
        with torch.autocast(wav.device.type, enabled=False):  # FFTs and the GRU in float32
            spec = stft(wav.float(), self.n_fft, self.hop)              # (B, F, N)
            feats = torch.log(spec.abs() + 1e-5).transpose(1, 2)        # (B, N, F)
            feats = feats - feats.mean(dim=(1, 2), keepdim=True)
            hidden, _ = self.rnn(feats)
            return self.out(hidden)[..., 0][:, :n_frames]


def save_snr_predictor(model: SNRPredictor, path: str | os.PathLike,
                       card: dict[str, Any] | None = None) -> Path:
    """Write `model` as a weights-only file (atomically: temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "config": model.config, "card": dict(card or {}),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    tmp = path.with_name(f".{path.name}.part")
    torch.save(data, tmp)
    os.replace(tmp, path)
    return path


def load_snr_predictor(path: str | os.PathLike, device: str | torch.device = "cpu"
                       ) -> SNRPredictor:
    """A predictor file written by `train_snr_predictor`, in eval mode on `device`."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: SNR predictor file not found; train one with "
                         "`python recipes/pseudose/train_snr_predictor.py --out "
                         f"{path}` (see recipes/pseudose/README.md)")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"{path}: not a loadable SNR predictor "
                         f"({str(exc).splitlines()[0][:160]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not an SNR predictor file (expected format {FORMAT})")
    try:
        model = SNRPredictor(**data["config"])
        model.load_state_dict(data["state_dict"])
    except Exception as exc:
        raise ModelError(f"{path}: weights do not match the predictor it describes "
                         f"({str(exc).splitlines()[0][:160]})") from None
    model.card = data.get("card", {})
    return model.eval().to(device)


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
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from ..data.datasets import SpeechNoiseClips

    if steps < 1:
        raise ConfigError(f"steps: {steps} — train the SNR predictor for at least one step")
    torch.manual_seed(seed)
    data = SpeechNoiseClips(speech_source, noise_source, sample_rate, segment_seconds,
                            items_per_epoch=steps * batch_size)  # one epoch = `steps` batches
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True,
                        num_workers=num_workers)
    model = SNRPredictor(sample_rate=sample_rate, hidden=hidden, layers=layers).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator(device).manual_seed(seed)
    history: list[float] = []
    started = time.time()
    model.train()
    with tqdm(total=steps, desc="SNR predictor", unit="step", disable=not progress) as bar:
        for raw in loader:
            speech, noise = raw["speech"].to(device), raw["noise"].to(device)
            snr = mixing.uniform(speech.shape[0], *snr_db, speech, gen)
            mixture, scaled = mixing.mix_at_snr(speech, noise, snr)
            mixture = mixing.random_gain_db(mixture, *gain_db, gen)
            target = segmental_snr(speech, scaled, model.n_fft, model.hop).clamp(*target_range_db)
            loss = nn.functional.smooth_l1_loss(model(mixture), target)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            history.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{history[-1]:.2f} dB")
    tail = max(1, min(10, len(history) // 2))
    card = {"trained_on": {"speech": str(speech_source), "noise": str(noise_source)},
            "steps": len(history), "batch_size": batch_size, "segment_seconds": segment_seconds,
            "snr_db": list(snr_db), "target_range_db": list(target_range_db), "lr": lr,
            "loss_first_steps": sum(history[:tail]) / tail,
            "loss_last_steps": sum(history[-tail:]) / tail,
            "train_seconds": round(time.time() - started, 1), "torch": str(torch.__version__)}
    return save_snr_predictor(model.cpu(), out_path, card)
