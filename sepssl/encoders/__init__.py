"""Self-supervised representation models beside the tasks: wav2vec 2.0, CPC, BYOL-A.

Each encoder carries its own pretext objective (see `base.SSLEncoder` for the shared face) and
is pre-trained by `sepssl pretrain` (`sepssl.pretrain`); an enhancer uses one as a front-end
through the model option `encoder:` (`sepssl.models.masker`).

Encoder files are weights-only (`torch.load(weights_only=True)`):
`{"format": "sepssl-encoder/1", "name", "options", "state_dict", "card"}`. `load_encoder` also
reads `sepssl pretrain` checkpoints (.ckpt) and bare torchaudio wav2vec 2.0 state dicts.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import ConfigError, ModelError
from ..files import first_line, load_weights_file
from ..schema import Registry
from .base import SSLEncoder
from .byol_a import BYOLAEncoder
from .cpc import CPCEncoder
from .wav2vec2 import Wav2Vec2Encoder, is_torchaudio_state_dict

FORMAT = "sepssl-encoder/1"

ENCODERS: Registry = Registry("encoder")
for _cls in (Wav2Vec2Encoder, CPCEncoder, BYOLAEncoder):
    ENCODERS.register(_cls.name, _cls.options_schema())(_cls)



def build_encoder(name: str, **options: Any) -> SSLEncoder:
    """An encoder by registry name (`size` picks a preset, other options override it)."""
    return ENCODERS.get(name)(**options)


def encoder_file(encoder: SSLEncoder, card: dict[str, Any] | None = None) -> dict[str, Any]:
    """The weights-only content of an encoder file."""
    return {"format": FORMAT, **encoder.spec(), "card": dict(card or {}),
            "state_dict": {k: v.detach().cpu() for k, v in encoder.state_dict().items()}}


def save_encoder(encoder: SSLEncoder, path: str | os.PathLike,
                 card: dict[str, Any] | None = None) -> Path:
    """Write an encoder file atomically."""
    from ..files import save_weights_file

    return save_weights_file(encoder_file(encoder, card), path)


def load_encoder(path: str | os.PathLike, pretext: bool = True, **overrides: Any) -> SSLEncoder:
    """An encoder from a sepssl encoder file, a `sepssl pretrain` checkpoint or a torchaudio
    wav2vec 2.0 state dict (its architecture read from the shapes; `overrides` can set what
    shapes do not tell). `pretext=False` keeps only the representation network. Returned in
    eval mode, on the CPU, with its card (if any) as `.card`."""
    path = Path(path)
    data = load_weights_file(path, "encoder")
    if isinstance(data, dict) and "sepssl_encoder" in data:        # `sepssl pretrain` checkpoint
        prefix = "encoder."
        data = {**data["sepssl_encoder"],
                "state_dict": {k[len(prefix):]: v for k, v in data["state_dict"].items()
                               if k.startswith(prefix)}}
    if is_torchaudio_state_dict(data):
        enc = Wav2Vec2Encoder.from_torchaudio(data, pretext=pretext, **overrides)
        enc.card = {"source": str(path), "format": "torchaudio wav2vec2 state dict"}
        return enc.eval()
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a sepssl encoder file (expected format {FORMAT}) "
                         "nor a torchaudio wav2vec 2.0 state dict")
    options = {**data["options"], **overrides}
    enc = build_encoder(data["name"], pretext=pretext, **options)
    state = data["state_dict"]
    if not pretext:
        state = {k: v for k, v in state.items() if not k.startswith("pretext.")}
    try:
        enc.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelError(f"{path}: weights do not match the encoder it describes "
                         f"({first_line(exc)})") from None
    enc.card = dict(data.get("card") or {})
    return enc.eval()


def front_end(spec: dict[str, Any]) -> tuple[SSLEncoder, dict[str, Any]]:
    """Resolve a model's `encoder:` option into the encoder (representation only) and the spec
    that rebuilds it without the original file.

    `spec`: `name` and/or `checkpoint` (a file `load_encoder` reads), `options` (architecture
    options; with a checkpoint: overrides, e.g. `num_heads` for a torchaudio file), `frozen`
    (default true), `layers` (`weighted`: a learnt softmax-weighted sum of the layers, `last`,
    or a layer index), `source` (informational). The returned spec holds the resolved options
    and no checkpoint, so a saved enhancer is rebuilt from its own weights alone.
    """
    from ..models.registry import FrontEndOptions
    from ..schema import validate

    spec = validate(FrontEndOptions, spec, "model.encoder.")
    options = dict(spec.options)
    if spec.checkpoint:
        try:
            enc = load_encoder(spec.checkpoint, pretext=False, **options)
        except TypeError as exc:
            raise ConfigError(f"model.encoder.options: {exc}") from None
        if spec.name and spec.name != enc.name:
            raise ConfigError(f"model.encoder.name: {spec.name!r}, but "
                              f"{spec.checkpoint} holds a {enc.name} encoder")
        source = str(spec.checkpoint)
    else:
        enc = build_encoder(spec.name, pretext=False, **options)
        source = spec.source
    frozen, layers = spec.frozen, spec.layers
    resolved = {**enc.spec(), "frozen": frozen, "layers": layers}
    if source:
        resolved["source"] = source
    return enc, resolved


__all__ = ["ENCODERS", "build_encoder", "load_encoder", "save_encoder", "encoder_file",
           "front_end", "SSLEncoder", "Wav2Vec2Encoder", "CPCEncoder", "BYOLAEncoder", "FORMAT"]
