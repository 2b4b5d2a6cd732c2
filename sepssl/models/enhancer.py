"""`Enhancer`: a trained network plus what inference needs (which outputs are speech, the
sample rate, an optional Noisier2Noise correction, MixIT's optional speech detector), saved as
one weights-only file.

Model files hold tensors and plain Python values only and load with
`torch.load(weights_only=True)`: a model file someone sends a user can never run code.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..dsp import mixing
from ..errors import ModelError
from .registry import build_model
from .speech_detector import SpeechDetector

FORMAT = "sepssl-model/1"
PRETRAINED = Path(__file__).resolve().parent.parent / "pretrained"


class Enhancer(nn.Module):
    """Maps noisy `(batch, time)` audio at `sample_rate` to enhanced speech `(batch, time)`."""

    def __init__(self, model: dict[str, Any], n_outputs: int = 1,
                 speech_outputs: list[int] | None = None, sample_rate: int = 16000,
                 correction_alpha: float | None = None, mixture_consistency: bool = False,
                 card: dict[str, Any] | None = None, atten_lim_db: float | None = None,
                 speech_detector: dict[str, Any] | None = None):
        super().__init__()
        self.spec = {"name": model.get("name", "masker"),
                     "kwargs": {k: v for k, v in model.items() if k != "name"}}
        self.net = build_model(self.spec["name"], n_outputs=n_outputs, sample_rate=sample_rate,
                               **self.spec["kwargs"])
        if getattr(self.net, "encoder_spec", None) is not None:
            # an SSL front-end: record what rebuilds it (not the file it was loaded from)
            self.spec["kwargs"]["encoder"] = self.net.encoder_spec
        self.n_outputs = n_outputs
        self.speech_outputs = list(speech_outputs if speech_outputs is not None else [0])
        self.sample_rate = sample_rate
        self.correction_alpha = correction_alpha
        self.mixture_consistency = mixture_consistency
        self.atten_lim_db = atten_lim_db  # inference only: `enhance` mixes the input back (None: off)
        self.card = dict(card or {})
        self.detector = None  # MixIT: weighs the other outputs by their speech probability
        if speech_detector is not None:
            self.detector = SpeechDetector(**speech_detector["config"])
            self.detector.load_state_dict(speech_detector["state_dict"])
            self.detector.requires_grad_(False).eval()

    def separate(self, wav: torch.Tensor) -> torch.Tensor:
        """All outputs `(batch, n_outputs, time)`, projected to sum to the input if the model
        was trained with mixture consistency. Training and inference both go through here."""
        est = self.net(wav)
        return mixing.mixture_consistency(est, wav) if self.mixture_consistency else est

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        est = self.separate(wav)
        speech = est[:, self.speech_outputs].sum(1)
        if self.detector is not None:
            others = [m for m in range(self.n_outputs) if m not in self.speech_outputs]
            weights = self.detector.eval().probability(est[:, others]).to(est.dtype)
            speech = speech + (weights.unsqueeze(-1) * est[:, others]).sum(1)
        if self.correction_alpha:
            # Noisier2Noise: trained on z = y + m with m at alpha times the noise level,
            # E[x|z] = ((1 + a²)·E[y|z] − z) / a²; applied here to the observed mixture.
            a2 = self.correction_alpha ** 2
            speech = ((1 + a2) * speech - wav) / a2
        return speech

    @torch.no_grad()
    def enhance(self, audio: torch.Tensor | str | os.PathLike, sample_rate: int | None = None,
                chunk_seconds: float = 10.0, atten_lim_db: float | str | None = "model"
                ) -> torch.Tensor:
        """Enhance a file path or a `(channels, time)` / `(time,)` tensor.

        Returns `(channels, time)` (or `(time,)` for 1-D input) at the input's sample rate;
        `sample_rate` defaults to the model's for tensors. Long signals are chunked.
        `atten_lim_db`: attenuate nothing by more than this many dB
        (`dsp.mixing.limit_attenuation`); "model": this model's own setting; None: no limit.
        """
        from ..enhance import enhance_signal
        from ..audio import read

        if isinstance(audio, (str, os.PathLike)):
            audio, sample_rate = read(audio)
        squeeze = audio.dim() == 1
        wav = audio.unsqueeze(0) if squeeze else audio
        out = enhance_signal(self, wav, sample_rate or self.sample_rate, chunk_seconds,
                             atten_lim_db)
        return out[0] if squeeze else out

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "model": {"name": self.spec["name"], **self.spec["kwargs"]},
                "n_outputs": self.n_outputs, "speech_outputs": self.speech_outputs,
                "sample_rate": self.sample_rate, "correction_alpha": self.correction_alpha,
                "mixture_consistency": self.mixture_consistency,
                "atten_lim_db": self.atten_lim_db, "card": self.card,
                "speech_detector": None if self.detector is None else {
                    "config": self.detector.config,
                    "state_dict": {k: v.detach().cpu()
                                   for k, v in self.detector.state_dict().items()}},
                "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()}}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model as a weights-only file, atomically; returns its path."""
        from ..files import save_weights_file

        return save_weights_file(self.to_dict(), path)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Enhancer":
        enh = cls(data["model"], n_outputs=data["n_outputs"],
                  speech_outputs=data["speech_outputs"], sample_rate=data["sample_rate"],
                  correction_alpha=data.get("correction_alpha"),
                  mixture_consistency=bool(data.get("mixture_consistency", False)),
                  card=data.get("card"), atten_lim_db=data.get("atten_lim_db"),
                  speech_detector=data.get("speech_detector"))
        enh.net.load_state_dict(data["state_dict"])
        return enh.eval()


def load_model(name_or_path: str | os.PathLike = "default", device: str = "cpu") -> Enhancer:
    """'default' (the shipped model), a sepssl model file (.pt) or a training checkpoint (.ckpt)."""
    path = PRETRAINED / "default.pt" if str(name_or_path) == "default" else Path(name_or_path)
    if not path.is_file():
        hint = " (the package was installed without its model file)" if str(name_or_path) == "default" else ""
        raise ModelError(f"{path}: model file not found{hint}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"{path}: not a loadable sepssl model ({str(exc).splitlines()[0][:160]})") from None
    if isinstance(data, dict) and "sepssl_model" in data:  # a Lightning checkpoint from `sepssl train`
        meta = data["sepssl_model"]
        prefix = "enhancer.net."
        data = {**meta, "state_dict": {k[len(prefix):]: v for k, v in data["state_dict"].items()
                                       if k.startswith(prefix)}}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a sepssl model file (expected format {FORMAT})")
    try:
        enh = Enhancer.from_dict(data)
    except Exception as exc:
        raise ModelError(f"{path}: weights do not match the model it describes ({str(exc).splitlines()[0][:160]})") from None
    try:
        return enh.to(device)
    except Exception as exc:
        raise ModelError(f"cannot move the model to device {device!r} ({str(exc).splitlines()[0][:160]})") from None
