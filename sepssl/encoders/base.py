"""The face every SSL encoder shares, and its option handling.

An encoder is a representation network plus its own pretext objective:

    enc = build_encoder("cpc", size="small")
    loss, stats = enc.pretext_loss(wav)     # wav (batch, time) at enc.sample_rate
    loss.backward(); opt.step(); enc.after_step()   # temperature annealing, EMA target...
    feats = enc.layer_features(wav)         # list of (batch, frames, dim), one per layer
    emb = enc.embed(wav)                    # (batch, dim) clip embedding

`hop` is the number of samples per frame and `frame_rate` the frames per second. `kind` is
"frames" for encoders whose frame features feed an enhancer (wav2vec 2.0, CPC) and "clip" for
those whose clip embedding conditions it (BYOL-A). Everything the pretext task alone needs
(quantiser, prediction heads, projector / predictor / target network) lives under the
submodule `pretext`, so an enhancer stores only the representation (`pretext=False`).
"""
from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError


class SSLEncoder(nn.Module):
    name: str = ""
    kind: str = "frames"
    DEFAULTS: dict[str, Any] = {}
    SIZES: dict[str, dict[str, Any]] = {}

    def __init__(self, size: str, options: dict[str, Any]):
        super().__init__()
        self.options = resolve_options(self.name, self.DEFAULTS, self.SIZES, size, options)
        self.sample_rate = int(self.options["sample_rate"])
        self.hop = 1
        self.min_samples = 1

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    @property
    def has_pretext(self) -> bool:
        return getattr(self, "pretext", None) is not None

    def _need_pretext(self) -> None:
        if not self.has_pretext:
            raise ConfigError(f"encoder {self.name}: built without its pretext heads "
                              "(pretext=False); rebuild it with pretext=True to pre-train")

    def _prepare(self, wav: torch.Tensor) -> torch.Tensor:
        """Zero-pad signals shorter than the encoder's receptive field and, with the option
        `normalize`, standardise each waveform (zero mean, unit variance): the representation
        then does not depend on the input level, in pre-training and in an enhancer alike."""
        if wav.dim() != 2:
            raise ValueError(f"encoder {self.name}: expected (batch, time), got {tuple(wav.shape)}")
        if wav.shape[-1] < self.min_samples:
            wav = nn.functional.pad(wav, (0, self.min_samples - wav.shape[-1]))
        if self.options.get("normalize"):
            wav = nn.functional.layer_norm(wav, wav.shape[-1:])
        return wav

    def layer_features(self, wav: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def features(self, wav: torch.Tensor) -> torch.Tensor:
        """The last layer's frame features `(batch, frames, dim)`."""
        return self.layer_features(wav)[-1]

    def embed(self, wav: torch.Tensor) -> torch.Tensor:
        """A clip embedding `(batch, dim)`: the frame features averaged over time."""
        return self.features(wav).mean(1)

    @property
    def feature_dims(self) -> list[int]:
        raise NotImplementedError

    def pretext_loss(self, wav: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def after_step(self) -> None:
        """Called once after every optimiser step of pre-training."""

    def spec(self) -> dict[str, Any]:
        """What rebuilds this network (weights aside): name and the full resolved options."""
        return {"name": self.name, "options": copy.deepcopy(self.options)}


def resolve_options(name: str, defaults: dict[str, Any], sizes: dict[str, dict[str, Any]],
                    size: str, options: dict[str, Any]) -> dict[str, Any]:
    """defaults < size preset < explicit options; unknown keys and sizes are ConfigErrors that
    name them. The result is complete, so a saved file rebuilds even if presets change."""
    if size not in sizes:
        raise ConfigError(f"encoder.size: {size!r} is not one of {sorted(sizes)} for {name}")
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ConfigError(f"encoder.{unknown[0]}: unknown option for {name}; "
                          f"known: {sorted(set(defaults) | {'size'})}")
    out = {**copy.deepcopy(defaults), **copy.deepcopy(sizes[size]), **copy.deepcopy(options)}
    for key, value in out.items():
        ref = defaults[key]
        if ref is None or value is None:
            continue
        if isinstance(ref, bool) != isinstance(value, bool) or (
                isinstance(ref, (int, float)) and not isinstance(value, (int, float))) or (
                isinstance(ref, str) and not isinstance(value, str)) or (
                isinstance(ref, (list, tuple)) and not isinstance(value, (list, tuple))):
            raise ConfigError(f"encoder.{key}: {value!r} is not a valid value for {name} "
                              f"(default {ref!r})")
        if isinstance(ref, int) and not isinstance(ref, bool) and isinstance(value, float):
            if value != int(value):
                raise ConfigError(f"encoder.{key}: expected an integer, got {value!r}")
            out[key] = int(value)
        if isinstance(ref, float) and isinstance(value, int) and not isinstance(value, bool):
            out[key] = float(value)
        if isinstance(value, tuple):
            out[key] = [list(v) if isinstance(v, tuple) else v for v in value]
    out["size"] = size
    return out
