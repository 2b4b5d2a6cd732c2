"""The face every front-end task shares: build (input, target) by mixing, score, pick speech."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ..dsp import mixing
from ..errors import ConfigError


@dataclass
class Batch:
    inputs: torch.Tensor                 # (batch, time): what the model hears
    targets: torch.Tensor                # (batch, sources, time): what the loss compares with
    weights: torch.Tensor | None = None  # optional per-example or per-frame weights


class Task:
    """Subclasses set `name`, `needs` (raw batch keys), `Options` (a dataclass of settings).

    `n_outputs`, `speech_outputs` and `mixture_consistency` describe the network the task
    trains; they may depend on the options (set them in `__init__`). Tasks that need more than
    the trained network (RemixIT's teacher) create it in `auxiliary` and update it in
    `after_step`; the trainer keeps it on the training device and in checkpoints.
    """

    name: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ("speech", "noise")
    n_outputs: int = 1
    speech_outputs: tuple[int, ...] = (0,)
    mixture_consistency: bool = False

    @dataclass
    class Options:
        pass

    def __init__(self, **options: Any):
        fields = {f.name for f in dataclasses.fields(self.Options)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise ConfigError(f"task.{unknown[0]}: unknown option for task {self.name!r}; "
                              f"known: {sorted(fields)}")
        self.options = self.Options(**options)

    def make_batch(self, raw: dict[str, torch.Tensor],
                   generator: torch.Generator | None = None) -> Batch:
        raise NotImplementedError

    def loss(self, est: torch.Tensor, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def auxiliary(self, net: torch.nn.Module) -> torch.nn.Module | None:
        """Called once with the network being trained; may return a module the task uses."""
        return None

    def after_step(self, net: torch.nn.Module) -> None:
        """Called after every optimiser step."""

    def infer(self, est: torch.Tensor) -> torch.Tensor:
        """The enhanced speech `(batch, time)` from the model's `(batch, outputs, time)`."""
        return est[:, list(self.speech_outputs)].sum(1)

    def export(self) -> dict[str, Any]:
        """What an `Enhancer` needs at inference time."""
        return {"n_outputs": self.n_outputs, "speech_outputs": list(self.speech_outputs),
                "mixture_consistency": self.mixture_consistency, "correction_alpha": None}


def check_ranges(options: Any, *keys: str) -> None:
    """Each named option must be a `[low, high]` pair with low ≤ high (a ConfigError if not)."""
    for key in keys:
        pair = getattr(options, key)
        if len(pair) != 2 or pair[0] > pair[1]:
            raise ConfigError(f"task.{key}: expected [low, high] with low <= high, got {pair}")


def signal_plus_noise(signal: torch.Tensor, noise: torch.Tensor, snr_db, gain_db,
                      generator: torch.Generator | None = None) -> Batch:
    """Input = signal + noise at an SNR drawn from `snr_db`, target = signal; one random gain
    from `gain_db` for both, after a shared peak limit. The pair both `supervised` (signal =
    clean speech) and `noisy_target` (signal = noisy speech) train on."""
    b = signal.shape[0]
    mixture, _ = mixing.mix_at_snr(signal, noise, mixing.uniform(b, *snr_db, signal, generator))
    mixture, signal = mixing.peak_normalize(mixture, signal)
    gain = (10 ** (mixing.uniform(b, *gain_db, signal, generator) / 20))[:, None]
    return Batch(inputs=mixture * gain, targets=(signal * gain).unsqueeze(1))
