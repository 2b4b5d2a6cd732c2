"""BYOL-A (Niizumi et al., 2021): BYOL for audio, a clip embedding learnt without negatives.

- Input: log-mel spectrogram (torchaudio's MelSpectrogram: 64 bins, 16 kHz, n_fft 1024, hop
  160, 60–7800 Hz) of crops of about 1 s, standardised by a BatchNorm without affine terms
  (running statistics of the training data, used as they are at inference).
- Encoder (AudioNTT2020): 3 × [conv 3×3, 64 channels, BN, ReLU, max-pool 2], the
  (channels × mel bins) of each remaining frame through FC–ReLU–dropout–FC–ReLU, then temporal
  max + mean pooling → the clip embedding.
- Objective (module `pretext`): two augmented views of the same crop; online encoder →
  projector → predictor against the target (EMA 0.99 of encoder + projector, no gradient);
  loss 2 − 2·cos, symmetrised (the mean of both directions, so it reads on the 0–4 scale).
- Augmentations, batched on the device: mixup with a memory of past clips (ratio up to 0.4,
  mixed as powers: log((1−λ)·exp(x) + λ·exp(m))) and random resize-crop (a crop of 0.6–1.5×
  the input's size inside a virtual canvas 1.5× longer in time, resized back by bicubic
  interpolation — one `grid_sample` for the whole batch).

Sizes: `base` is the paper's (embedding 512, projector / predictor 4096 → 256, memory 2048);
`small` narrows the embedding and MLPs for CPU pre-training.

Written here because BYOL-A has no maintained PyTorch package to build on.
"""
from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import SSLEncoder
from .objectives import ema_update, embedding_std

DEFAULTS: dict[str, Any] = {
    "sample_rate": 16000,
    "normalize": True,                  # standardise each waveform first (level invariance)
    "n_mels": 64,
    "n_fft": 1024,
    "hop_length": 160,
    "f_min": 60.0,
    "f_max": 7800.0,
    "crop_seconds": 1.0,
    "conv_channels": 64,
    "embed_dim": 512,
    "dropout": 0.3,
    "mlp_hidden": 4096,
    "mlp_out": 256,
    "ema": 0.99,
    "mixup_ratio": 0.4,
    "memory_size": 2048,
    "crop_scale": [0.6, 1.5],          # crop size / input size, per axis
    "virtual_scale": [1.0, 1.5],       # canvas size / input size: [frequency, time]
}

SIZES: dict[str, dict[str, Any]] = {
    "base": {},
    "small": {"embed_dim": 256, "mlp_hidden": 1024, "mlp_out": 128, "memory_size": 512},
}


class AudioNTT2020(nn.Module):
    """BYOL-A's audio encoder: three conv blocks on the log-mel image, then an MLP per frame.

    Args:
        n_mels (int): Number of mel bins of the input (a multiple of 8 uses every bin).
        channels (int): Channels of each convolution.
        embed_dim (int): Width of the frame features and of the clip embedding.
        dropout (float): Dropout between the two fully connected layers.
    """

    def __init__(self, n_mels: int, channels: int, embed_dim: int, dropout: float):
        super().__init__()
        blocks: list[nn.Module] = []
        ch_in = 1
        for _ in range(3):
            blocks += [nn.Conv2d(ch_in, channels, 3, padding=1), nn.BatchNorm2d(channels),
                       nn.ReLU(), nn.MaxPool2d(2)]
            ch_in = channels
        self.features = nn.Sequential(*blocks)
        self.fc = nn.Sequential(nn.Linear(channels * (n_mels // 8), embed_dim), nn.ReLU(),
                                nn.Dropout(dropout), nn.Linear(embed_dim, embed_dim), nn.ReLU())

    def frames(self, x: torch.Tensor) -> torch.Tensor:
        """Frame features of a log-mel image.

        Args:
            x (torch.Tensor): Standardised log-mel, shape `(batch, 1, n_mels, frames)`.

        Returns:
            torch.Tensor: Frame features, shape `(batch, frames // 8, embed_dim)`.
        """
        x = self.features(x)                             # (B, C, n_mels/8, T/8)
        x = x.permute(0, 3, 1, 2).flatten(2)             # (B, T/8, C · n_mels/8)
        return self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clip embedding: temporal max + mean of the frame features.

        Args:
            x (torch.Tensor): Standardised log-mel, shape `(batch, 1, n_mels, frames)`.

        Returns:
            torch.Tensor: Clip embedding, shape `(batch, embed_dim)`.
        """
        x = self.frames(x)
        return x.max(dim=1).values + x.mean(dim=1)


def _mlp(dim_in: int, hidden: int, dim_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, dim_out))


def mixup_log_mel(x: torch.Tensor, partners: torch.Tensor, ratio: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """BYOL-A's mixup: blend each log-mel clip with a partner in the power domain,
    log((1 − λ)·exp(x) + λ·exp(m)), λ ~ U(0, ratio) per clip. Mixing powers (not log values)
    adds a quieter background sound, which is the invariance BYOL-A wants; logaddexp keeps it
    finite for λ = 0 and very negative log powers.

    Args:
        x (torch.Tensor): Log-mel clips, shape `(batch, n_mels, frames)`.
        partners (torch.Tensor): Log-mel clips to mix in, same shape.
        ratio (float): Largest mixing weight λ.
        generator (torch.Generator or None, optional): Random generator.

    Returns:
        torch.Tensor: Mixed log-mel clips, same shape as `x`.
    """
    lam = ratio * torch.rand(x.shape[0], 1, 1, generator=generator, device=x.device, dtype=x.dtype)
    return torch.logaddexp(x + torch.log1p(-lam), partners + torch.log(lam))


def random_resize_crop(x: torch.Tensor, crop_scale: tuple[float, float],
                       virtual_scale: tuple[float, float],
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """BYOL-A's random resize-crop of `(batch, 1, freq, time)` images, batched: place the input
    at the centre of a zero canvas `virtual_scale` times its size (zero is the mean of the
    standardised log-mel), take a crop of `crop_scale` times the input's size (clipped to the
    canvas) at a random position inside it, and resize it back to the input's size. It teaches
    invariance to small pitch shifts and time stretches.

    Args:
        x (torch.Tensor): Standardised log-mel images, shape `(batch, 1, freq, time)`.
        crop_scale (tuple[float, float]): Range of the crop size relative to the input, per
            axis.
        virtual_scale (tuple[float, float]): Canvas size relative to the input,
            `(frequency, time)`.
        generator (torch.Generator or None, optional): Random generator.

    Returns:
        torch.Tensor: Augmented images, same shape as `x`.
    """
    batch = x.shape[0]
    lo, hi = crop_scale

    def draw() -> torch.Tensor:
        return torch.rand(batch, generator=generator, device=x.device, dtype=x.dtype)

    scale_f = (lo + (hi - lo) * draw()).clamp(max=virtual_scale[0])
    scale_t = (lo + (hi - lo) * draw()).clamp(max=virtual_scale[1])
    centre_f = (2 * draw() - 1) * (virtual_scale[0] - scale_f)
    centre_t = (2 * draw() - 1) * (virtual_scale[1] - scale_t)
    zero = torch.zeros_like(scale_f)
    theta = torch.stack([torch.stack([scale_t, zero, centre_t], -1),
                         torch.stack([zero, scale_f, centre_f], -1)], 1)   # (B, 2, 3): x=time
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bicubic", padding_mode="zeros", align_corners=False)


def byol_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BYOL's regression loss 2 − 2·cos(pred, target) per item: the squared distance of the
    L2-normalised vectors. The target carries no gradient (its network follows by EMA).

    Args:
        pred (torch.Tensor): Online predictions, shape `(batch, dim)`.
        target (torch.Tensor): Target projections, shape `(batch, dim)`.

    Returns:
        torch.Tensor: Loss per item in [0, 4], shape `(batch,)`.
    """
    return 2 - 2 * F.cosine_similarity(pred.float(), target.detach().float(), dim=-1)


class _Pretext(nn.Module):
    def __init__(self, o: dict[str, Any], net: nn.Module):
        super().__init__()
        self.projector = _mlp(o["embed_dim"], o["mlp_hidden"], o["mlp_out"])
        self.predictor = _mlp(o["mlp_out"], o["mlp_hidden"], o["mlp_out"])
        self.target_net = copy.deepcopy(net).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(False)
        self.memory: torch.Tensor | None = None     # past log-mel crops (not saved)


class BYOLAEncoder(SSLEncoder):
    """BYOL-A clip encoder: log-mel spectrogram, BatchNorm standardisation, `AudioNTT2020`;
    one frame per `hop_length · 8` samples (80 ms with the defaults).

    Args:
        size (str, optional): Preset, ``"small"`` or ``"base"`` (see `SIZES`).
            (Default: ``"small"``)
        pretext (bool, optional): Build the projector, predictor and EMA target that
            `pretext_loss` needs; ``False`` keeps only the representation, as an enhancer
            front-end does. (Default: ``True``)
        **options: Any key of `DEFAULTS`, overriding the preset.

    Raises:
        ConfigError: If an option is unknown or invalid.
    """
    name = "byol_a"
    kind = "clip"
    DEFAULTS = DEFAULTS
    SIZES = SIZES
    FRACTIONS = ("dropout", "ema", "mixup_ratio")

    def __init__(self, size: str = "small", pretext: bool = True, **options: Any):
        super().__init__(size, options)
        from torchaudio.transforms import MelSpectrogram

        o = self.options
        self.melspec = MelSpectrogram(sample_rate=self.sample_rate, n_fft=o["n_fft"],
                                      win_length=o["n_fft"], hop_length=o["hop_length"],
                                      f_min=o["f_min"], f_max=o["f_max"], n_mels=o["n_mels"],
                                      power=2.0)
        self.norm = nn.BatchNorm2d(1, affine=False)
        self.net = AudioNTT2020(o["n_mels"], o["conv_channels"], o["embed_dim"], o["dropout"])
        self.hop = o["hop_length"] * 8
        self.min_samples = self.hop
        self.pretext = _Pretext(o, self.net) if pretext else None

    @property
    def feature_dims(self) -> list[int]:
        """Width of the single `layer_features` output: `[embed_dim]`."""
        return [self.options["embed_dim"]]

    def log_mel(self, wav: torch.Tensor) -> torch.Tensor:
        """Log-mel spectrogram in float32, computed outside autocast.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            torch.Tensor: Natural-log mel power, shape `(batch, n_mels, time // hop_length + 1)`.
        """
        with torch.autocast(wav.device.type, enabled=False):
            return torch.log(self.melspec(self._prepare(wav).float()) + 1e-8)

    def _image(self, log_mel: torch.Tensor) -> torch.Tensor:
        return self.norm(log_mel.unsqueeze(1))

    def layer_features(self, wav: torch.Tensor) -> list[torch.Tensor]:
        """Frame features before temporal pooling, one frame per `hop` samples.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            list[torch.Tensor]: One tensor of shape `(batch, frames, embed_dim)`.
        """
        return [self.net.frames(self._image(self.log_mel(wav)))]

    def embed(self, wav: torch.Tensor) -> torch.Tensor:
        """Clip embedding (temporal max + mean pooling), as pre-trained.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            torch.Tensor: Embedding, shape `(batch, embed_dim)`.
        """
        return self.net(self._image(self.log_mel(wav)))

    def _crop(self, wav: torch.Tensor) -> torch.Tensor:
        """A random `crop_seconds` window per clip (the same for both views)."""
        length = int(round(self.options["crop_seconds"] * self.sample_rate))
        if wav.shape[-1] <= length:
            return F.pad(wav, (0, length - wav.shape[-1]))
        start = torch.randint(0, wav.shape[-1] - length + 1, (wav.shape[0], 1), device=wav.device)
        return wav.gather(1, start + torch.arange(length, device=wav.device))

    def _view(self, x: torch.Tensor, memory: torch.Tensor | None) -> torch.Tensor:
        o = self.options
        if memory is not None and memory.shape[0] > 0:
            pick = torch.randint(0, memory.shape[0], (x.shape[0],), device=x.device)
            partners = memory[pick]
        else:
            partners = x            # first batch: mixing with itself is the identity
        mixed = mixup_log_mel(x, partners, o["mixup_ratio"])
        return random_resize_crop(self._image(mixed), tuple(o["crop_scale"]),
                                  tuple(o["virtual_scale"]))

    def pretext_loss(self, wav: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Symmetrised BYOL loss between two augmented views of one random crop per clip.

        Also updates the mixup memory with this batch's log-mel crops.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            (torch.Tensor, dict[str, torch.Tensor]): The scalar loss (0–4 scale) and detached
            statistics for logging (`embed_std`, `projection_std`, `memory`).

        Raises:
            ConfigError: If the encoder was built with `pretext=False`.
        """
        self._need_pretext()
        p = self.pretext
        x = self.log_mel(self._crop(wav))                              # (B, M, F)
        memory = p.memory if p.memory is not None and p.memory.shape[1:] == x.shape[1:] else None
        memory = None if memory is None else memory.to(x.device)
        views = [self._view(x, memory), self._view(x, memory)]
        emb = [self.net(v) for v in views]
        pred = [p.predictor(p.projector(e)) for e in emb]
        with torch.no_grad():
            target = [p.target_projector(p.target_net(v)) for v in views]
        loss = 0.5 * (byol_loss(pred[0], target[1]) + byol_loss(pred[1], target[0])).mean()
        keep = x.detach() if memory is None else torch.cat([memory, x.detach()])
        p.memory = keep[-self.options["memory_size"]:]
        stats = {"embed_std": embedding_std(emb[0].detach()),
                 "projection_std": embedding_std(pred[0].detach()),
                 "memory": torch.tensor(float(p.memory.shape[0]))}
        return loss, stats

    def after_step(self) -> None:
        """Move the target network towards the online one: ξ ← τ·ξ + (1 − τ)·θ, τ = `ema`."""
        if self.has_pretext:
            tau = self.options["ema"]
            ema_update(self.pretext.target_net, self.net, tau)
            ema_update(self.pretext.target_projector, self.pretext.projector, tau)
