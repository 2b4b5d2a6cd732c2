"""CPC (van den Oord et al., 2018; the audio setup of Rivière et al., 2020).

- Encoder: five strided 1-D convolutions on the waveform (kernels 10, 8, 4, 4, 4; strides
  5, 4, 2, 2, 2: one frame per 160 samples, 10 ms at 16 kHz), 256 channels, each followed by
  a channel-wise layer norm (per frame, over channels) and a ReLU → `z`.
- Context network: a causal GRU (or LSTM, CPC2) over `z` → `c`.
- Objective (module `pretext`): for each of the next 12 steps k, a linear head W_k predicts
  `z[t+k]` from `c[t]`; InfoNCE with the log-bilinear score `z·W_k c` against negatives drawn
  from the same sequence (never the positive frame itself).

The scores against every frame of the sequence are one batched matrix product per step, and
the positive and negatives are gathered from it, so no `(frames, negatives, dim)` tensor is
ever built. Sizes: `base` is the paper's setup (128 negatives); `small` halves the widths.

Written here because CPC has no maintained PyTorch package to build on.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import ConfigError
from .base import SSLEncoder
from .objectives import embedding_std, info_nce, sample_excluding

DEFAULTS: dict[str, Any] = {
    "sample_rate": 16000,
    "normalize": True,                  # standardise each waveform first (level invariance)
    "kernels": [10, 8, 4, 4, 4],
    "strides": [5, 4, 2, 2, 2],
    "channels": 256,
    "context": "gru",           # gru | lstm
    "context_dim": 256,
    "context_layers": 1,
    "steps": 12,
    "negatives": 128,
}

SIZES: dict[str, dict[str, Any]] = {
    "base": {},
    "small": {"channels": 128, "context_dim": 128},
}


class ChannelNorm(nn.Module):
    """Layer norm over channels for each frame of a `(batch, channels, frames)` tensor, with a
    per-channel gain and bias (CPC's "channel-wise normalisation": no statistics across time,
    so the encoder stays causal and batch-independent)."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each frame over channels.

        Args:
            x (torch.Tensor): Features, shape `(batch, channels, frames)`.

        Returns:
            torch.Tensor: Normalised features, same shape.
        """
        mean = x.mean(1, keepdim=True)
        var = x.var(1, keepdim=True, unbiased=False)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class _Pretext(nn.Module):
    def __init__(self, o: dict[str, Any]):
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(o["context_dim"], o["channels"], bias=False)
                                   for _ in range(o["steps"]))


class CPCEncoder(SSLEncoder):
    """Contrastive Predictive Coding encoder: strided convolutions on the waveform, then a
    causal GRU / LSTM context network, one frame per `hop` samples (160 with the default
    strides: 10 ms at 16 kHz).

    Args:
        size (str, optional): Preset, ``"small"`` or ``"base"`` (see `SIZES`).
            (Default: ``"small"``)
        pretext (bool, optional): Build the prediction heads that `pretext_loss` needs;
            ``False`` keeps only the representation, as an enhancer front-end does.
            (Default: ``True``)
        **options: Any key of `DEFAULTS`, overriding the preset.

    Raises:
        ConfigError: If an option is unknown or invalid, or `kernels` and `strides` differ in
            length.
    """
    name = "cpc"
    kind = "frames"
    DEFAULTS = DEFAULTS
    SIZES = SIZES
    CHOICES = {"context": ("gru", "lstm")}

    def __init__(self, size: str = "small", pretext: bool = True, **options: Any):
        super().__init__(size, options)
        o = self.options
        if len(o["kernels"]) != len(o["strides"]) or not o["kernels"]:
            raise ConfigError("encoder.kernels and encoder.strides: need one stride per kernel")
        if o["context"] not in ("gru", "lstm"):
            raise ConfigError(f"encoder.context: {o['context']!r} is not gru or lstm")
        layers: list[nn.Module] = []
        ch_in = 1
        for kernel, stride in zip(o["kernels"], o["strides"]):
            layers += [nn.Conv1d(ch_in, o["channels"], kernel, stride),
                       ChannelNorm(o["channels"]), nn.ReLU()]
            ch_in = o["channels"]
        self.conv = nn.Sequential(*layers)
        rnn = nn.GRU if o["context"] == "gru" else nn.LSTM
        self.rnn = rnn(o["channels"], o["context_dim"], num_layers=o["context_layers"],
                       batch_first=True)
        field, jump = 1, 1
        for kernel, stride in zip(o["kernels"], o["strides"]):
            field += (kernel - 1) * jump
            jump *= stride
        self.hop, self.min_samples = jump, field
        self.pretext = _Pretext(o) if pretext else None

    @property
    def feature_dims(self) -> list[int]:
        """Widths of the `layer_features` outputs: `[channels, context_dim]`."""
        return [self.options["channels"], self.options["context_dim"]]

    def encode(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Convolutional features `z` and context features `c`.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            (torch.Tensor, torch.Tensor): `z`, shape `(batch, frames, channels)`, and `c`,
            shape `(batch, frames, context_dim)`.
        """
        z = self.conv(self._prepare(wav).unsqueeze(1)).transpose(1, 2)
        c, _ = self.rnn(z)
        return z, c

    def layer_features(self, wav: torch.Tensor) -> list[torch.Tensor]:
        """Features of each layer: `[z, c]` as returned by `encode`.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            list[torch.Tensor]: Two tensors of shape `(batch, frames, dim)`, `dim` as in
            `feature_dims`.
        """
        return list(self.encode(wav))

    def pretext_loss(self, wav: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """CPC's InfoNCE loss, averaged over the prediction steps 1 … `steps`.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            (torch.Tensor, dict[str, torch.Tensor]): The scalar loss and detached statistics
            for logging (`accuracy`, `accuracy_step1`, `accuracy_last_step`, `embed_std`).

        Raises:
            ConfigError: If the encoder was built with `pretext=False`, or a crop is too short
                to give two frames.
        """
        self._need_pretext()
        o = self.options
        z, c = self.encode(wav)
        batch, frames, _ = z.shape
        steps = min(o["steps"], frames - 1)
        if steps < 1:
            raise ConfigError(f"cpc: a crop of {wav.shape[-1]} samples gives {frames} frame(s); "
                              "use longer crops (data.segment_seconds)")
        losses, accs = [], []
        for k in range(1, steps + 1):
            pred = self.pretext.heads[k - 1](c[:, :frames - k])            # (B, N-k, D)
            scores = torch.bmm(pred, z.transpose(1, 2))                    # (B, N-k, N)
            positive = torch.arange(k, frames, device=z.device).expand(batch, -1)
            neg = sample_excluding(positive, frames, o["negatives"])        # (B, N-k, K)
            loss_k, acc_k = info_nce(scores.gather(2, positive.unsqueeze(-1)).squeeze(-1),
                                     scores.gather(2, neg))
            losses.append(loss_k)
            accs.append(acc_k)
        loss = torch.stack(losses).mean()
        stats = {"accuracy": torch.stack(accs).mean(), "accuracy_step1": accs[0],
                 "accuracy_last_step": accs[-1],
                 "embed_std": embedding_std(c.detach().mean(1))}
        return loss, stats
