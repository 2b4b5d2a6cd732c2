"""Model registry: a config's `model:` section to a network.

Every network maps `(batch, time)` to `(batch, n_outputs, time)` and carries `sample_rate`.
"""
from __future__ import annotations

from typing import Any, Callable

from torch import nn

from ..errors import ConfigError
from .masker import STFTMasker


def _asteroid(cls_name: str) -> Callable[..., nn.Module]:
    def build(n_outputs: int, sample_rate: int, **kwargs: Any) -> nn.Module:
        import asteroid.models as am

        net = getattr(am, cls_name)(n_src=n_outputs, sample_rate=sample_rate, **kwargs)
        return _AsteroidAdapter(net, n_outputs, sample_rate)

    return build


class _AsteroidAdapter(nn.Module):
    """Gives asteroid models the `(batch, time) -> (batch, n_outputs, time)` face."""

    def __init__(self, net: nn.Module, n_outputs: int, sample_rate: int):
        super().__init__()
        self.net, self.n_outputs, self.sample_rate = net, n_outputs, sample_rate

    def forward(self, wav):
        est = self.net(wav)
        return est[..., : wav.shape[-1]]


MODELS: dict[str, Callable[..., nn.Module]] = {
    "masker": STFTMasker,
    "convtasnet": _asteroid("ConvTasNet"),
    "dprnn": _asteroid("DPRNNTasNet"),
    "sudormrf": _asteroid("SuDORMRFImprovedNet"),
}


def build_model(name: str, n_outputs: int, sample_rate: int, **kwargs: Any) -> nn.Module:
    """A network by registry name; unknown names and options are ConfigErrors."""
    if name not in MODELS:
        raise ConfigError(f"model.name: unknown model {name!r}; choose one of {sorted(MODELS)}")
    try:
        return MODELS[name](n_outputs=n_outputs, sample_rate=sample_rate, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"model: bad option for {name!r} ({exc})") from None

