"""The config schema of `sepssl train` and `sepssl pretrain`: YAML recipe + `--set key=value`
overrides, validated as a whole before anything heavy runs.

Every section and option is typed and range-checked (`sepssl.schema`, pydantic v2): unknown
keys, wrong types and out-of-range values are one-line `ConfigError`s that name the key. The
`task:` section is the options of the task `task.name` names (each task declares them), the
`model:` section those of `model.name` (the model registry), a pre-training recipe's `encoder:`
those of `encoder.name`. `Config.dump()` gives the complete config, defaults filled in, as the
run's `config.yaml` records it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from .encoders import ENCODERS
from .errors import ConfigError
from .models.registry import MODELS, MaskerOptions
from .schema import (NonNegativeFloat, NonNegativeInt, Options, PositiveFloat, PositiveInt,
                     validate)
from .tasks import TASKS
from .tasks.noisy_target import NoisyTargetOptions


class DataConfig(Options):
    train_speech: str = ""           # folder or file list: noisy speech (clean for `supervised`)
    train_noise: str = ""            # folder or file list: noise-only clips (tasks that mix noise)
    train_clean: str = ""            # folder or file list: clean speech NOT paired with the
                                     # noisy speech (task `unpaired`)
    valid: str | None = None         # folder with paired noisy/ and clean/ for model selection
    valid_files: PositiveInt | None = 50   # validate on the first N pairs (None: all)
    segment_seconds: PositiveFloat = 3.0
    batch_size: PositiveInt = 16
    num_workers: NonNegativeInt = 2
    items_per_epoch: PositiveInt | None = None
    resident: bool = False           # the whole training set in device memory, crops drawn there


class OptimConfig(Options):
    lr: PositiveFloat = 1e-3
    weight_decay: NonNegativeFloat = 0.0
    grad_clip: PositiveFloat | None = 5.0
    schedule: Literal["constant", "cosine"] = "constant"   # cosine: to 0 at trainer.max_steps
    warmup_steps: NonNegativeInt = 0  # linear warm-up from 0 before the schedule


class TrainerConfig(Options):
    out_dir: str = "runs/default"
    max_steps: PositiveInt = 1000
    max_minutes: PositiveFloat | None = None   # stop after this much training time
    val_every_steps: PositiveInt = 250
    log_every_steps: PositiveInt = 10
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps"] = "auto"
    devices: PositiveInt | Literal["auto", -1] | list[NonNegativeInt] = 1   # a count or GPU ids
    num_nodes: PositiveInt = 1
    strategy: str = "auto"             # auto | ddp | ddp_spawn ... (Lightning's names)
    precision: Literal["auto", "32-true", "32", "16-mixed", "bf16-mixed", "64-true",
                       "bf16-true", "16-true"] = "auto"   # auto: 16-mixed on GPU, 32 on CPU
    seed: NonNegativeInt = 0
    resume: bool = True                # continue from out_dir/checkpoints/last.ckpt if present
    init_from: str | None = None       # start from this model/checkpoint's weights; layers
                                       # whose shapes differ (the output layer) stay fresh
    progress: bool = True


    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        from lightning.pytorch.strategies import StrategyRegistry

        names = ["auto", *StrategyRegistry.available_strategies()]
        if value not in names:
            raise ValueError(f"{value!r} is not a Lightning strategy; choose one of "
                             f"{', '.join(names[:6])}, …")
        return value


class TrainTrainerConfig(TrainerConfig):
    # torch.compile the enhancer's network for training steps (validation runs it eagerly):
    # "reduce-overhead" adds CUDA graphs, for the small launch-bound steps of a GPU
    compile: Literal["off", "default", "reduce-overhead", "max-autotune"] = "off"

    @field_validator("compile", mode="before")
    @classmethod
    def _yaml_switch(cls, value: Any) -> Any:
        """YAML reads `off` / `on` as booleans: off is "off", on is "default"."""
        return {False: "off", True: "default"}.get(value, value) if isinstance(value, bool) \
            else value


class Recipe(Options):
    """What a training and a pre-training recipe share: the warm-up check and the dump."""

    @model_validator(mode="after")
    def _warmup_fits(self):
        if self.optim.warmup_steps > self.trainer.max_steps:
            raise ValueError(f"optim.warmup_steps: {self.optim.warmup_steps} is more than "
                             f"trainer.max_steps ({self.trainer.max_steps})")
        return self

    def dump(self) -> dict[str, Any]:
        """The complete config as plain values (lists for ranges), defaults included."""
        return self.model_dump(mode="json")


class Config(Recipe):
    """A training recipe: `sepssl train RECIPE`."""

    name: str = "experiment"
    sample_rate: PositiveInt = 16000
    task: TASKS.union() = Field(default_factory=NoisyTargetOptions)
    model: MODELS.union() = Field(default_factory=MaskerOptions)
    data: DataConfig = Field(default_factory=DataConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    trainer: TrainTrainerConfig = Field(default_factory=TrainTrainerConfig)

    @model_validator(mode="after")
    def _batch_fits_the_task(self):
        task = TASKS.get(self.task.name)
        problem = task.check_batch_size(self.task, self.data.batch_size)
        if problem:
            raise ValueError(f"data.batch_size: {problem}")
        problem = task.check_model(self.task, self.model)
        if problem:
            raise ValueError(f"model.name: {problem}")
        return self


class PretrainDataConfig(Options):
    train_speech: str = ""           # folder or file list of (noisy) speech
    segment_seconds: PositiveFloat = 2.0   # random crop per item
    batch_size: PositiveInt = 8
    num_workers: NonNegativeInt = 2
    items_per_epoch: PositiveInt | None = None


class PretrainOptimConfig(Options):
    lr: PositiveFloat = 5e-4
    weight_decay: NonNegativeFloat = 0.01  # AdamW (decoupled)
    grad_clip: PositiveFloat | None = 10.0
    warmup_steps: NonNegativeInt = 0       # linear warm-up of the learning rate, then constant


class PretrainConfig(Recipe):
    """A pre-training recipe: `sepssl pretrain RECIPE`. `trainer.val_every_steps` is the
    checkpoint interval (there is no validation); `trainer.init_from` an encoder file (or a
    torchaudio wav2vec 2.0 state dict) to start from."""

    name: str = "pretrain"
    encoder: ENCODERS.union() = Field(default_factory=lambda: ENCODERS.options("cpc")())
    data: PretrainDataConfig = Field(default_factory=PretrainDataConfig)
    optim: PretrainOptimConfig = Field(default_factory=PretrainOptimConfig)
    trainer: TrainerConfig = Field(default_factory=lambda: TrainerConfig(out_dir="runs/pretrain"))

    def encoder_options(self) -> dict[str, Any]:
        """The `encoder:` section as `build_encoder` takes it (unset options left out)."""
        return self.encoder.model_dump(exclude_none=True, exclude={"name"})


_TAGS = tuple(TASKS.names()) + tuple(MODELS.names()) + tuple(ENCODERS.names())


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None
                ) -> Config:
    """A training recipe, validated.

    Args:
        path: a YAML file (None: the defaults).
        overrides: `key.sub=value` items (`--set`), values read as YAML.
    Returns:
        The `Config`.
    Raises:
        ConfigError: one line naming the key that is unknown, of the wrong type or out of range.
    """
    raw = read_recipe(path, overrides)
    for section, default in (("task", "noisy_target"), ("model", "masker")):
        if isinstance(raw.get(section), dict):   # a section without a name: the default's
            raw[section].setdefault("name", default)
    return validate(Config, raw, "", _TAGS)


def load_pretrain_config(path: str | os.PathLike | None = None,
                         overrides: list[str] | None = None) -> PretrainConfig:
    """A pre-training recipe, validated (see `load_config`)."""
    raw = read_recipe(path, overrides)
    return validate(PretrainConfig, raw, "", _TAGS)


def read_recipe(path: str | os.PathLike | None = None, overrides: list[str] | None = None
                ) -> dict[str, Any]:
    """The raw mapping of a YAML recipe (or {}) with `key.sub=value` overrides applied."""
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


def to_yaml(data: dict[str, Any]) -> str:
    """A config dump as YAML, in the order of its sections."""
    return yaml.safe_dump(data, sort_keys=False)
