"""Training configuration: YAML recipe + `--set key=value` overrides, validated.

Unknown keys are errors that name the key (a typo must never be silently ignored). The `task`
and `model` sections are checked by the task and model they name.
"""
from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError


@dataclass
class DataConfig:
    train_speech: str = ""           # folder or file list: noisy speech (clean for `supervised`)
    train_noise: str = ""            # folder or file list: noise-only clips
    valid: str | None = None         # folder with paired noisy/ and clean/ for model selection
    valid_files: int | None = 50     # validate on the first N pairs (None: all)
    segment_seconds: float = 3.0
    batch_size: int = 16
    num_workers: int = 2
    items_per_epoch: int | None = None


@dataclass
class OptimConfig:
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float | None = 5.0
    schedule: str = "constant"       # constant | cosine (to 0 at trainer.max_steps)
    warmup_steps: int = 0            # linear warm-up from 0 before the schedule


@dataclass
class TrainerConfig:
    out_dir: str = "runs/default"
    max_steps: int = 1000
    max_minutes: float | None = None   # stop after this much training time (then validate/export)
    val_every_steps: int = 250
    log_every_steps: int = 10
    accelerator: str = "auto"          # cpu | gpu | auto
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"             # auto | ddp | ddp_spawn ...
    precision: str = "auto"            # auto: 16-mixed on GPU, 32 on CPU
    seed: int = 0
    resume: bool = True                # continue from out_dir/checkpoints/last.ckpt if present
    init_from: str | None = None       # start from this model/checkpoint's weights (pre-training);
                                       # layers whose shapes differ (the output layer) stay fresh
    progress: bool = True


@dataclass
class Config:
    name: str = "experiment"
    sample_rate: int = 16000
    task: dict[str, Any] = field(default_factory=lambda: {"name": "noisy_target"})
    model: dict[str, Any] = field(default_factory=lambda: {"name": "masker"})
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None
                ) -> Config:
    """Read a YAML recipe (or start from defaults) and apply `key.sub=value` overrides."""
    raw = read_recipe(path, overrides)
    if isinstance(raw.get("model"), dict):
        raw["model"].setdefault("name", "masker")
    return _build(Config, raw, "")


def read_recipe(path: str | os.PathLike | None = None, overrides: list[str] | None = None
                ) -> dict[str, Any]:
    """The raw mapping of a YAML recipe (or {}) with `key.sub=value` overrides applied; shared
    by `load_config` and other commands' configs (`sepssl.pretrain`)."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of sections")
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. trainer.max_steps=100")
        node = raw
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {part!r} is not a section")
        node[parts[-1]] = yaml.safe_load(value)
    return raw


def _build(cls, raw: dict[str, Any], prefix: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{prefix}{key}: unknown key; known keys here: {sorted(known)}")
    kwargs = {}
    for key, value in raw.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            kwargs[key] = _build(hint, value or {}, f"{prefix}{key}.")
        else:
            kwargs[key] = _check(value, hint, f"{prefix}{key}")
    cfg = cls(**kwargs)
    if cls is Config:
        for section in ("task", "model"):
            if "name" not in getattr(cfg, section):
                raise ConfigError(f"{section}.name: missing")
    return cfg


def _check(value: Any, hint: Any, key: str) -> Any:
    """Accept `value` if it fits the annotation (ints for floats too), else a ConfigError."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _check(value, option, key)
            except ConfigError:
                pass
        raise ConfigError(f"{key}: {value!r} is not a valid {_name(hint)}")
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{key}: expected nothing, got {value!r}")
    if origin is dict or hint is Any:
        if origin is dict and not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return value
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):  # YAML 1.1 reads 5e-4 (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if hint is bool and isinstance(value, bool):
        return value
    if hint in (int, str) and isinstance(value, hint) and not isinstance(value, bool):
        return value
    raise ConfigError(f"{key}: {value!r} is not a valid {_name(hint)}")


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
