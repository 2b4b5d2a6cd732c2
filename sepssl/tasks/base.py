"""The interface every front-end task shares: build (input, target) by mixing, score, pick speech.

A task declares, as parts of its class:

- `Options`: its typed settings (a `sepssl.schema.Options` with `name: Literal[...]`), validated
  with the rest of the config before anything heavy runs;
- `needs`: the raw data it reads (keys of the batch the loader yields: "speech" for the
  recordings — noisy speech, or clean speech for the oracle — and "noise" for noise-only
  clips); the loader reads exactly these;
- `inference_rule()`: which outputs make the enhanced speech (`sepssl.models.InferenceRule`),
  what validation, `infer` and every saved model apply;
- `training_loss(enhancer, batch, step)`: the step's loss, by default `loss(outputs, batch)`
  (plus the SSL feature term); a task whose loss needs more than the outputs overrides it;
- `check_model(options, model)`: a model section the task cannot train, refused with the config;
- `helpers(net)`: auxiliary networks it trains with (RemixIT's teacher, PseudoSE's SNR
  predictor); the trainer holds them as submodules, so they move to the training device and are
  saved in and restored from checkpoints; `after_step` updates them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from ..dsp import mixing
from ..models.inference import InferenceRule
from ..schema import Options, Registry, validate

TASKS: Registry = Registry("task")


@dataclass
class Batch:
    inputs: torch.Tensor                 # (batch, time): what the model hears
    targets: torch.Tensor                # (batch, sources, time): what the loss compares with
    weights: torch.Tensor | None = None  # optional per-example or per-frame weights


class Task:
    """Subclasses set `name`, `Options`, `needs`, and `n_outputs` / `speech_outputs` /
    `mixture_consistency` (in `__init__` if they depend on the options), and register with
    `@TASKS.register(name, Options)`.

    Args:
        options: the validated options; or give them as keywords (validated here).
    """

    name: ClassVar[str]
    Options: ClassVar[type[Options]]
    needs: ClassVar[tuple[str, ...]] = ("speech", "noise")
    paired: ClassVar[bool] = False     # the sources are parts of the same recordings, file by file
    n_outputs: int = 1
    speech_outputs: tuple[int, ...] = (0,)
    mixture_consistency: bool = False

    def __init__(self, options: Options | None = None, **values: Any):
        if options is None:
            options = validate(self.Options, {"name": self.name, **values}, "task.")
        elif values:
            raise TypeError("give the options either validated or as keywords, not both")
        self.options = options
        self._helpers: nn.ModuleDict | None = None
        self._rule: InferenceRule | None = None

    @classmethod
    def check_batch_size(cls, options: Options, batch_size: int) -> str | None:
        """Why `batch_size` does not suit this task with these options (None: it does);
        checked with the config, before anything runs."""
        return None

    @classmethod
    def check_model(cls, options: Options, model: Options) -> str | None:
        """Why the `model:` section does not suit this task (None: it does); checked with the
        config, before anything runs."""
        return None

    def make_batch(self, raw: dict[str, torch.Tensor],
                   generator: torch.Generator | None = None) -> Batch:
        """`raw` (the keys of `needs`, each `(batch, time)`) → the training pair, on its device."""
        raise NotImplementedError

    def loss(self, est: torch.Tensor, batch: Batch) -> torch.Tensor:
        """A scalar from the model's outputs `(batch, n_outputs, time)` and the batch."""
        raise NotImplementedError

    def training_loss(self, enhancer: nn.Module, batch: "Batch", step: int
                      ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss of one training step, and its named terms to log: the enhancer's outputs
        on `batch.inputs` scored by `loss`, plus the feature term. A task whose loss looks
        inside the network (`unpaired`: the auto-encoders' latents) overrides this.

        Args:
            enhancer: the `Enhancer` being trained (`enhancer.net` is the network).
            batch: from `make_batch` (and `recorded`).
            step: the optimiser steps taken so far (a task may train in phases).
        Returns:
            `(loss, terms)`: a scalar and `{name: scalar}` (logged as `train/<name>`).
        """
        est = enhancer.separate(batch.inputs)
        loss = self.loss(est, batch)
        feature = self.feature_term(est, batch)
        if feature is None:
            return loss, {}
        return loss + feature, {"feature_loss": feature}

    def build_helpers(self, net: nn.Module) -> dict[str, nn.Module]:
        """The auxiliary networks this task trains with, built once for the network `net`."""
        return {}

    def helpers(self, net: nn.Module) -> nn.ModuleDict:
        """`build_helpers(net)` (and the feature loss's encoder) as a ModuleDict, built on the
        first call, the same after."""
        if self._helpers is None:
            modules = dict(self.build_helpers(net))
            feature = getattr(self.options, "feature_loss", None)
            if feature is not None:
                from .feature_loss import load_feature_encoder

                modules["feature_encoder"] = load_feature_encoder(feature)
            self._helpers = nn.ModuleDict(modules)
        return self._helpers

    def feature_term(self, est: torch.Tensor, batch: "Batch") -> torch.Tensor | None:
        """The SSL feature loss (`task.feature_loss`) of speech output 0 against target 0,
        weighted; None when the task has none. Added to `loss` by `training_loss`."""
        feature = getattr(self.options, "feature_loss", None)
        if feature is None:
            return None
        from .feature_loss import feature_distance, random_windows

        encoder = self.helpers(None)["feature_encoder"]
        est, ref = est[:, 0], batch.targets[:, 0]
        if feature.seconds is not None:
            est, ref = random_windows(est, ref, round(feature.seconds * encoder.sample_rate))
        return feature.weight * feature_distance(encoder, est, ref, feature.layers)

    def recorded(self, batch: "Batch", rate: int) -> "Batch":
        """The batch through the task's random recording chain (`task.recording_chain`);
        unchanged when the task has none. Applied by the trainer after `make_batch`."""
        options = getattr(self.options, "recording_chain", None)
        if options is None:
            return batch
        from .recording_chain import through_chain

        inputs, targets = through_chain(batch.inputs, batch.targets, rate, options)
        return Batch(inputs, targets, batch.weights)

    def before_restore(self, net: nn.Module, state: dict[str, torch.Tensor],
                       prefix: str) -> None:
        """Called with a checkpoint's state dict before it is loaded; a task whose helpers
        change shape while training (RemixIT's teacher replaced by the student) rebuilds
        them here to the checkpoint's shapes. `prefix` starts the helpers' keys."""

    def after_step(self, net: nn.Module) -> None:
        """Called after every optimiser step."""

    def build_inference_rule(self) -> InferenceRule:
        """This task's inference rule (override to add a detector or a correction)."""
        return InferenceRule(self.n_outputs, list(self.speech_outputs), self.mixture_consistency)

    def inference_rule(self) -> InferenceRule:
        """The rule, built once (it may load a helper file, e.g. MixIT's speech detector)."""
        if self._rule is None:
            self._rule = self.build_inference_rule()
        return self._rule

    def infer(self, est: torch.Tensor, wav: torch.Tensor) -> torch.Tensor:
        """The enhanced speech `(batch, time)` from the outputs `(batch, outputs, time)` of the
        network on `wav` `(batch, time)`: the inference rule, the one every model file applies."""
        rule = self.inference_rule().to(est.device)
        return rule(rule.consistent(est, wav), wav)


def signal_plus_noise(signal: torch.Tensor, noise: torch.Tensor, snr_db, gain_db,
                      generator: torch.Generator | None = None) -> Batch:
    """Input = signal + noise at an SNR drawn from `snr_db`, target = signal; one random gain
    from `gain_db` for both, after a shared peak limit. The pair both `supervised` (signal =
    clean speech) and `noisy_target` (signal = noisy speech) train on.

    Args:
        signal, noise: `(batch, time)`.
        snr_db, gain_db: `[low, high]` ranges in dB.
    Returns:
        A `Batch` with inputs `(batch, time)` and targets `(batch, 1, time)`.
    """
    b = signal.shape[0]
    mixture, _ = mixing.mix_at_snr(signal, noise, mixing.uniform(b, *snr_db, signal, generator))
    mixture, signal = mixing.peak_normalize(mixture, signal)
    gain = (10 ** (mixing.uniform(b, *gain_db, signal, generator) / 20))[:, None]
    return Batch(inputs=mixture * gain, targets=(signal * gain).unsqueeze(1))
