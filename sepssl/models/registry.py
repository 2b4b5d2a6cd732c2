"""Model registry: a config's `model:` section to a network.

Every network maps `(batch, time)` to `(batch, n_outputs, time)` and carries `sample_rate`.
Each model registers its typed options (`MODELS.register`); the asteroid models take the
options of asteroid's constructors that matter for size and speed (the rest keep asteroid's
defaults).
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator
from torch import nn

from ..errors import ConfigError
from ..schema import Fraction, NonNegativeInt, Options, PositiveFloat, PositiveInt, Registry
from .cae_mae import CleanMixtureAutoencoders
from .masker import STFTMasker

MODELS: Registry = Registry("model")


class FrontEndOptions(Options):
    """A masker's SSL front-end (`model.encoder`): a pre-trained encoder file (`checkpoint`)
    or an encoder `name` trained from scratch; `options` override its architecture options."""

    name: str | None = None
    checkpoint: str | None = None
    options: dict[str, Any] = {}
    frozen: bool = True
    layers: Literal["weighted", "last"] | int = "weighted"
    source: str | None = None

    @model_validator(mode="after")
    def _known_encoder(self):
        from ..encoders import ENCODERS

        if self.checkpoint is None and self.name is None:
            raise ValueError("give a checkpoint (a pre-trained encoder file) or a name (an "
                             "encoder trained from scratch with the enhancer)")
        if "name" in self.options:
            raise ValueError("model.encoder.options.name: the encoder is named by "
                             "model.encoder.name")
        if self.name is not None:
            if self.name not in ENCODERS:
                raise ValueError(f"model.encoder.name: unknown encoder {self.name!r}; choose "
                                 f"one of {ENCODERS.names()}")
            ENCODERS.parse({**self.options, "name": self.name}, "model.encoder.options.")
        return self


class DeepFilterOptions(Options):
    """A masker's deep filter (`model.deep_filter`): complex taps over `order` frames, `lookahead`
    of them ahead, on the lowest `bins` STFT bins."""

    bins: PositiveInt = 160
    order: PositiveInt = 3
    lookahead: NonNegativeInt = 1

    @model_validator(mode="after")
    def _lookahead_fits(self):
        if self.lookahead >= self.order:
            raise ValueError(f"model.deep_filter.lookahead: {self.lookahead} taps ahead need an "
                             f"order above {self.lookahead} (order is {self.order})")
        return self


def _check_hop(options: Options) -> None:
    """An STFT model's hop must not exceed its FFT size."""
    if options.hop > options.n_fft:
        raise ValueError(f"model.hop: {options.hop} is longer than model.n_fft ({options.n_fft})")


class MaskerOptions(Options):
    name: Literal["masker"] = "masker"
    n_fft: PositiveInt = 512
    hop: PositiveInt = 128
    hidden: PositiveInt = 192
    layers: PositiveInt = 2
    dropout: Fraction = 0.0
    encoder: FrontEndOptions | None = None
    deep_filter: DeepFilterOptions | None = None

    @model_validator(mode="after")
    def _hop_fits(self):
        _check_hop(self)
        if self.deep_filter is not None and self.deep_filter.bins > self.n_fft // 2 + 1:
            raise ValueError(f"model.deep_filter.bins: {self.deep_filter.bins} is more than the "
                             f"{self.n_fft // 2 + 1} bins of model.n_fft {self.n_fft}")
        return self


class CaeMaeOptions(Options):
    """The clean / mixture auto-encoder pair (`sepssl.models.cae_mae`), what task `unpaired`
    trains; sizes are per auto-encoder."""

    name: Literal["cae_mae"] = "cae_mae"
    n_fft: PositiveInt = 512
    hop: PositiveInt = 128
    hidden: PositiveInt = 256
    latent: PositiveInt = 128
    layers: PositiveInt = 2
    kernel: PositiveInt = 5
    power: PositiveFloat = 0.5   # the auto-encoders see |X| ** power (at most 1)
    bounded: bool = True

    @model_validator(mode="after")
    def _shapes_fit(self):
        _check_hop(self)
        if self.kernel % 2 == 0:
            raise ValueError(f"model.kernel: {self.kernel} is even; use an odd width")
        if self.power > 1:
            raise ValueError(f"model.power: {self.power} expands the magnitude; use at most 1")
        return self


class _AsteroidOptions(Options):
    n_filters: PositiveInt | None = None
    kernel_size: PositiveInt | None = None
    stride: PositiveInt | None = None
    bn_chan: PositiveInt | None = None


class ConvTasNetOptions(_AsteroidOptions):
    name: Literal["convtasnet"] = "convtasnet"
    n_blocks: PositiveInt | None = None
    n_repeats: PositiveInt | None = None
    hid_chan: PositiveInt | None = None
    skip_chan: PositiveInt | None = None
    conv_kernel_size: PositiveInt | None = None
    causal: bool | None = None


class DPRNNOptions(_AsteroidOptions):
    name: Literal["dprnn"] = "dprnn"
    hid_size: PositiveInt | None = None
    chunk_size: PositiveInt | None = None
    hop_size: PositiveInt | None = None
    n_repeats: PositiveInt | None = None
    rnn_type: Literal["RNN", "LSTM", "GRU"] | None = None
    num_layers: PositiveInt | None = None
    dropout: Fraction | None = None
    bidirectional: bool | None = None


class SuDORMRFOptions(_AsteroidOptions):
    name: Literal["sudormrf"] = "sudormrf"
    num_blocks: PositiveInt | None = None
    upsampling_depth: PositiveInt | None = None


class _AsteroidAdapter(nn.Module):
    """Gives asteroid models the `(batch, time) -> (batch, n_outputs, time)` face."""

    def __init__(self, net: nn.Module, n_outputs: int, sample_rate: int):
        super().__init__()
        self.net, self.n_outputs, self.sample_rate = net, n_outputs, sample_rate

    def forward(self, wav):
        est = self.net(wav)
        return est[..., : wav.shape[-1]]


def _asteroid(cls_name: str):
    def build(n_outputs: int, sample_rate: int, **kwargs: Any) -> nn.Module:
        import asteroid.models as am

        net = getattr(am, cls_name)(n_src=n_outputs, sample_rate=sample_rate,
                                    **{k: v for k, v in kwargs.items() if v is not None})
        return _AsteroidAdapter(net, n_outputs, sample_rate)
    return build


def _masker(n_outputs: int, sample_rate: int, encoder=None, deep_filter=None,
            **kwargs: Any) -> nn.Module:
    front_end = encoder.model_dump(exclude_none=True) if encoder is not None else None
    taps = deep_filter.model_dump() if deep_filter is not None else None
    return STFTMasker(n_outputs=n_outputs, sample_rate=sample_rate, encoder=front_end,
                      deep_filter=taps, **kwargs)


MODELS.register("masker", MaskerOptions)(_masker)
MODELS.register("cae_mae", CaeMaeOptions)(CleanMixtureAutoencoders)
MODELS.register("convtasnet", ConvTasNetOptions)(_asteroid("ConvTasNet"))
MODELS.register("dprnn", DPRNNOptions)(_asteroid("DPRNNTasNet"))
MODELS.register("sudormrf", SuDORMRFOptions)(_asteroid("SuDORMRFImprovedNet"))


def build_model(options: Options | dict[str, Any], n_outputs: int, sample_rate: int) -> nn.Module:
    """A network from its options (or a `{name: ..., **options}` mapping, validated).

    Args:
        options: the `model:` section.
        n_outputs: outputs the network emits.
        sample_rate: the rate it runs at.
    Returns:
        `(batch, time) -> (batch, n_outputs, time)` module.
    """
    options = MODELS.parse(options, "model.")
    kwargs = {k: getattr(options, k) for k in type(options).model_fields if k != "name"}
    try:
        return MODELS.get(options.name)(n_outputs=n_outputs, sample_rate=sample_rate, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"model: bad option for {options.name!r} ({exc})") from None
