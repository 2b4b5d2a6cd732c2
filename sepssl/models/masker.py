"""The default enhancer: a small STFT mask estimator (log-power in, BiGRU, sigmoid masks out).

Optional deep filter (`deep_filter:`): on the lowest `bins` bins the real mask is completed by a
complex filter over `order` neighbouring frames (DeepFilterNet's idea, `sepssl.dsp.stft.
deep_filter`), predicted by the same GRU; its output layer starts at zero, so an untrained
model with the filter is the plain masker, and the filter only adds what training finds.

On a CPU, STFT-domain models train far more per minute than time-domain ones (asteroid's
ConvTasNet / DPRNN are many times slower per step at the same batch), so this is the default;
asteroid's models are available through `sepssl.models.build_model` for GPU users.

Optional SSL front-end (`encoder:`, see `sepssl.encoders.front_end`): frame features of a
wav2vec 2.0 / CPC encoder (a learnt softmax-weighted sum of its layers, or one layer), layer-
normalised, linearly interpolated to the STFT frame count and concatenated with the log-power
features before the GRU; a BYOL-A clip embedding instead scales and shifts the GRU input
(FiLM: x·(1 + γ(e)) + β(e)). The encoder is frozen (kept in eval mode, no gradient) or fine-
tuned with the masker; its weights live in the masker's state dict and its spec in the model
spec, so a saved enhancer never needs the original encoder file.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..dsp.stft import apply_mask, deep_filter, istft, log_power, stft
from ..errors import ConfigError


class STFTMasker(nn.Module):
    """STFT mask estimator: one real mask per output on the noisy STFT, from a BiGRU over the
    log-power spectrum (plus the optional SSL front-end).

    The log-power features are centred per example, so the masks do not depend on input level.

    Args:
        n_outputs (int, optional): Number of output signals. (Default: ``1``)
        sample_rate (int, optional): Sample rate of the input, in Hz. (Default: ``16000``)
        n_fft (int, optional): FFT size, in samples. (Default: ``512``)
        hop (int, optional): STFT hop, in samples. (Default: ``128``)
        hidden (int, optional): GRU width per direction. (Default: ``192``)
        layers (int, optional): Number of GRU layers. (Default: ``2``)
        dropout (float, optional): Dropout between GRU layers. (Default: ``0.0``)
        encoder (dict or None, optional): The model option `encoder:` (see
            `sepssl.encoders.front_end`); ``None``: no SSL front-end. (Default: ``None``)
        deep_filter (dict or None, optional): `{bins, order, lookahead}`: a complex filter of
            `order` taps (`lookahead` of them on future frames) on the lowest `bins` bins,
            added to the masked spectrum; ``None``: real masks only. (Default: ``None``)

    Raises:
        ConfigError: If the `encoder` option is invalid, the encoder runs at another sample
            rate, or `encoder.layers` does not fit the encoder.
    """

    def __init__(self, n_outputs: int = 1, sample_rate: int = 16000, n_fft: int = 512,
                 hop: int = 128, hidden: int = 192, layers: int = 2, dropout: float = 0.0,
                 encoder: dict[str, Any] | None = None,
                 deep_filter: dict[str, int] | None = None):
        super().__init__()
        self.n_outputs, self.sample_rate, self.n_fft, self.hop = n_outputs, sample_rate, n_fft, hop
        n_freq = n_fft // 2 + 1
        self.encoder_spec: dict[str, Any] | None = None  # what rebuilds the front-end
        rnn_in = n_freq + (self._front_end(encoder, n_freq) if encoder is not None else 0)
        self.rnn = nn.GRU(rnn_in, hidden, num_layers=layers, batch_first=True,
                          bidirectional=True, dropout=dropout if layers > 1 else 0.0)
        self.mask = nn.Linear(2 * hidden, n_outputs * n_freq)
        self.df_spec = None if deep_filter is None else dict(deep_filter)
        if self.df_spec is not None:
            bins, order = self.df_spec["bins"], self.df_spec["order"]
            if not 0 < bins <= n_freq or not 0 <= self.df_spec["lookahead"] < order:
                raise ConfigError(f"model.deep_filter: {self.df_spec} does not fit {n_freq} "
                                  f"bins (need 0 < bins <= {n_freq}, 0 <= lookahead < order)")
            self.df = nn.Linear(2 * hidden, n_outputs * order * bins * 2)
            nn.init.zeros_(self.df.weight)   # starts as the plain masker
            nn.init.zeros_(self.df.bias)

    def _front_end(self, encoder: dict[str, Any], n_freq: int) -> int:
        """Build the SSL front-end; returns the number of features it adds to the GRU input."""
        from ..encoders import front_end

        enc, spec = front_end(encoder)
        if enc.sample_rate != self.sample_rate:
            raise ConfigError(f"model.encoder: the {enc.name} encoder runs at {enc.sample_rate} Hz, "
                              f"the model at {self.sample_rate} Hz; use the same rate")
        self.encoder, self.encoder_spec = enc, spec
        if spec["frozen"]:
            enc.requires_grad_(False).eval()
        if enc.kind == "clip":
            self.film = nn.Linear(enc.feature_dims[-1], 2 * n_freq)
            return 0
        dims, layers = enc.feature_dims, spec["layers"]
        if layers == "weighted" and len(dims) > 1:
            if len(set(dims)) != 1:
                raise ConfigError(f"model.encoder.layers: the {enc.name} layers differ in width "
                                  f"{dims}; use last or a layer index")
            self.layer_weights = nn.Parameter(torch.zeros(len(dims)))
        elif isinstance(layers, int) and not -len(dims) <= layers < len(dims):
            raise ConfigError(f"model.encoder.layers: {layers} is out of range; the {enc.name} "
                              f"encoder has {len(dims)} layers")
        dim = dims[layers] if isinstance(layers, int) else dims[-1]
        self.encoder_norm = nn.LayerNorm(dim)
        return dim

    def train(self, mode: bool = True):
        """Set training mode, keeping a frozen encoder in eval mode.

        Args:
            mode (bool, optional): Training mode on or off. (Default: ``True``)

        Returns:
            STFTMasker: This module.
        """
        super().train(mode)
        if self.encoder_spec is not None and self.encoder_spec["frozen"]:
            self.encoder.eval()  # a frozen encoder keeps its BatchNorm statistics and no dropout
        return self

    def _with_encoder(self, wav: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        """The GRU input with the SSL front-end: `feats (B, N, F)` → `(B, N, F [+ dim])`."""
        enc, spec = self.encoder, self.encoder_spec
        with torch.set_grad_enabled(torch.is_grad_enabled() and not spec["frozen"]):
            if enc.kind == "clip":
                out = enc.embed(wav)
            else:
                out = enc.layer_features(wav)
        if enc.kind == "clip":
            gamma, beta = self.film(out).unsqueeze(1).chunk(2, dim=-1)
            return feats * (1 + gamma) + beta
        if hasattr(self, "layer_weights"):
            w = torch.softmax(self.layer_weights, 0)
            x = sum(w[i] * layer for i, layer in enumerate(out))
        else:
            x = out[spec["layers"]] if isinstance(spec["layers"], int) else out[-1]
        x = self.encoder_norm(x).transpose(1, 2)                   # (B, dim, frames)
        x = nn.functional.interpolate(x, size=feats.shape[1], mode="linear", align_corners=False)
        return torch.cat([feats, x.transpose(1, 2).to(feats.dtype)], dim=-1)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """Estimate the outputs by masking the input's STFT.

        Args:
            wav (torch.Tensor): Input at `sample_rate`, shape `(batch, time)`.

        Returns:
            torch.Tensor: Estimates, shape `(batch, n_outputs, time)`.
        """
        length = wav.shape[-1]
        if length < self.n_fft:  # torch.stft's centred frames need n_fft // 2 samples of context
            wav = nn.functional.pad(wav, (0, self.n_fft - length))
        with torch.autocast(wav.device.type, enabled=False):  # FFTs stay in float32 under AMP
            spec = stft(wav.float(), self.n_fft, self.hop)           # (B, F, N)
            feats = log_power(spec).transpose(1, 2)                  # (B, N, F)
            feats = feats - feats.mean(dim=(1, 2), keepdim=True)
        if self.encoder_spec is not None:
            feats = self._with_encoder(wav, feats)
        hidden, _ = self.rnn(feats)
        masks = torch.sigmoid(self.mask(hidden)).float()             # (B, N, M*F)
        batch, frames, _ = masks.shape
        masks = masks.reshape(batch, frames, self.n_outputs, -1).permute(0, 2, 3, 1)
        with torch.autocast(wav.device.type, enabled=False):
            est = apply_mask(spec.unsqueeze(1), masks)               # (B, M, F, N)
            if self.df_spec is not None:
                est = self._deep_filtered(spec, est, hidden)
            est = istft(est, self.n_fft, self.hop, wav.shape[-1])
        return est[..., :length]

    def _deep_filtered(self, spec: torch.Tensor, est: torch.Tensor,
                       hidden: torch.Tensor) -> torch.Tensor:
        """`est (B, M, F, N)` with the deep filter of `spec (B, F, N)` added on its low bins."""
        bins, order = self.df_spec["bins"], self.df_spec["order"]
        batch, frames = hidden.shape[0], hidden.shape[1]
        raw = torch.tanh(self.df(hidden).float())                    # taps bounded in (-1, 1)
        raw = raw.reshape(batch, frames, self.n_outputs, order, bins, 2)
        coefs = torch.view_as_complex(raw.permute(0, 2, 3, 4, 1, 5).contiguous())
        low = deep_filter(spec[:, None, :bins], coefs, self.df_spec["lookahead"])
        return torch.cat([est[:, :, :bins] + low, est[:, :, bins:]], dim=2)
