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
from typing import Any, Literal, Optional

from pydantic import create_model

import torch
from torch import nn

from ..errors import ConfigError
from ..schema import (Fraction, NonNegativeFloat, NonNegativeInt, Options, PositiveInt, Range,
                      validate)


class SSLEncoder(nn.Module):
    name: str = ""
    kind: str = "frames"
    DEFAULTS: dict[str, Any] = {}
    SIZES: dict[str, dict[str, Any]] = {}
    CHOICES: dict[str, tuple[str, ...]] = {}   # options that take one of a few strings
    FRACTIONS: tuple[str, ...] = ()            # options in [0, 1)

    def __init__(self, size: str, options: dict[str, Any]):
        super().__init__()
        self.options = resolve_options(self.name, self.DEFAULTS, self.SIZES, size, options,
                                       self.options_schema())
        self.sample_rate = int(self.options["sample_rate"])
        self.hop = 1
        self.min_samples = 1

    @classmethod
    def options_schema(cls) -> type[Options]:
        """This encoder's typed options (see `options_schema`), made once per class."""
        if "_schema" not in cls.__dict__:
            cls._schema = options_schema(cls.name, cls.DEFAULTS, cls.SIZES, cls.CHOICES,
                                         cls.FRACTIONS)
        return cls._schema

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


def options_schema(name: str, defaults: dict[str, Any], sizes: dict[str, dict[str, Any]],
                   choices: dict[str, tuple[str, ...]] | None = None,
                   fractions: tuple[str, ...] = ()) -> type[Options]:
    """The typed options of an encoder, made from its `DEFAULTS`: each key's type is its
    default's (counts positive, other numbers non-negative, `[low, high]` pairs ordered, lists
    element by element), `choices` name the allowed strings, `fractions` the options in
    [0, 1) (probabilities, dropouts, momenta), `size` one of the presets. Every field defaults
    to None (unset: the size preset or the default decides), so a partial mapping validates."""
    choices = choices or {}

    def kind(key: str, value: Any) -> Any:
        if key in choices:
            return Literal[choices[key]]
        if key in fractions:
            return Fraction
        if (isinstance(value, (list, tuple)) and len(value) == 2
                and all(isinstance(v, float) for v in value)):
            return Range
        if isinstance(value, bool):
            return bool
        if isinstance(value, int):
            return PositiveInt if value > 0 else NonNegativeInt
        if isinstance(value, float):
            return NonNegativeFloat
        if isinstance(value, (list, tuple)):
            return list[kind(key, value[0])] if value else list[Any]
        return type(value) if value is not None else Any

    fields: dict[str, Any] = {"name": (Literal[name], name),
                              "size": (Literal[tuple(sizes)], "small" if "small" in sizes
                                       else next(iter(sizes)))}
    for key, value in defaults.items():
        fields[key] = (Optional[kind(key, value)], None)
    return create_model(f"{name}_options", __base__=Options, **fields)


def resolve_options(name: str, defaults: dict[str, Any], sizes: dict[str, dict[str, Any]],
                    size: str, options: dict[str, Any],
                    schema: type[Options] | None = None) -> dict[str, Any]:
    """defaults < size preset < explicit options, each checked against the encoder's schema
    (`options_schema`): unknown keys, wrong types and sizes are ConfigErrors naming them. The
    result is complete, so a saved file rebuilds even if presets change."""
    schema = schema or options_schema(name, defaults, sizes)
    checked = validate(schema, {"name": name, "size": size, **options}, "encoder.")
    explicit = checked.model_dump(exclude_none=True, exclude={"name", "size"})
    explicit = {k: v for k, v in explicit.items() if k in options}
    out = {**copy.deepcopy(defaults), **copy.deepcopy(sizes[size]), **explicit}
    for key, value in out.items():
        if isinstance(value, tuple):
            out[key] = [list(v) if isinstance(v, tuple) else v for v in value]
    out["size"] = size
    return out
