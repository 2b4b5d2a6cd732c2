"""The clean / mixture auto-encoder pair of the `unpaired` task (Wang, Venkataramani and
Smaragdis, "Self-supervised learning for speech enhancement", 2020).

Two auto-encoders of compressed magnitude frames, each a stack of 1-D convolutions over time
with the STFT bins as channels (the authors' network shape): the clean-speech auto-encoder
(CAE) and the mixture auto-encoder (MAE). Enhancement is the MAE's encoder followed by the
CAE's decoder; the estimated magnitude, as a gain on the noisy STFT (bounded by 1 unless
`bounded` is off), keeps the noisy phase. The `unpaired` task trains the pair
(`sepssl.tasks.unpaired`); any other one-output task can train the same network end to end
(`noisy → MAE encoder → CAE decoder`), the architecture's control.

Each hidden convolution is followed by batch normalisation (as in the authors' code) and a
PReLU; without the normalisation the auto-encoders underfit (a probe of 200 steps on the
clean speech of `recipes/unpaired`: reconstruction error 0.79 without, 0.37 with,
recipes/unpaired/README.md). Choices of sepssl's own: each example is scaled to unit
RMS before the STFT and back after (the auto-encoders never see the recording level); the
magnitude is compressed by `power` (0.5) rather than taken on a log scale, so silence stays at
zero; a softplus keeps the decoded magnitudes positive. Written here because no library offers
these auto-encoders.
"""
from __future__ import annotations

import torch
from torch import nn

from ..dsp.stft import istft, stft
from ..errors import ConfigError

_EPS = 1e-8


class SpectralAutoencoder(nn.Module):
    """Compressed magnitude frames `(batch, freq, frames)` → latent `(batch, latent, frames)` →
    the frames again.

    Args:
        n_freq: STFT bins (the channels of the first convolution).
        hidden: channels of the hidden convolutions.
        latent: channels of the latent code.
        layers: hidden convolutions in the encoder and in the decoder.
        kernel: their width in frames (odd: centred, the output keeps the frame count).
    """

    def __init__(self, n_freq: int, hidden: int, latent: int, layers: int, kernel: int):
        super().__init__()

        def stack(first: int, last: int, positive_out: bool) -> nn.Sequential:
            parts: list[nn.Module] = []
            width = first
            for _ in range(layers):
                parts += [nn.Conv1d(width, hidden, kernel, padding=kernel // 2),
                          nn.BatchNorm1d(hidden), nn.PReLU(hidden)]
                width = hidden
            parts.append(nn.Conv1d(width, last, 1))
            if positive_out:
                parts.append(nn.Softplus())
            return nn.Sequential(*parts)

        self.encoder = stack(n_freq, latent, positive_out=False)
        self.decoder = stack(latent, n_freq, positive_out=True)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        return self.encoder(frames)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return self.decoder(latent)


class CleanMixtureAutoencoders(nn.Module):
    """The CAE / MAE pair; `forward` enhances: `(batch, time)` → `(batch, 1, time)`.

    Args:
        n_outputs: must be 1 (the network emits one speech estimate).
        sample_rate: the rate it runs at, in Hz.
        n_fft, hop: the STFT.
        hidden, latent, layers, kernel: each auto-encoder's size (`SpectralAutoencoder`).
        power: magnitude compression: the auto-encoders see `|X| ** power`.
        bounded: the estimate's gain on the noisy STFT is at most 1 (a mask).
    Raises:
        ConfigError: `n_outputs` is not 1, or `kernel` is even.
    """

    def __init__(self, n_outputs: int = 1, sample_rate: int = 16000, n_fft: int = 512,
                 hop: int = 128, hidden: int = 256, latent: int = 128, layers: int = 2,
                 kernel: int = 5, power: float = 0.5, bounded: bool = True):
        super().__init__()
        if n_outputs != 1:
            raise ConfigError(f"model.name: cae_mae emits one speech estimate; this task needs "
                              f"{n_outputs} outputs (use the masker or an asteroid model)")
        if kernel % 2 == 0:
            raise ConfigError(f"model.kernel: {kernel} is even; use an odd width so frames stay "
                              "centred")
        self.n_outputs, self.sample_rate = 1, sample_rate
        self.n_fft, self.hop, self.power, self.bounded = n_fft, hop, power, bounded
        n_freq = n_fft // 2 + 1
        self.clean = SpectralAutoencoder(n_freq, hidden, latent, layers, kernel)
        self.mixture = SpectralAutoencoder(n_freq, hidden, latent, layers, kernel)

    def analyse(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What both auto-encoders work on.

        Args:
            wav: `(batch, time)`.
        Returns:
            `(spec, frames, scale)`: the STFT of the unit-RMS signal `(batch, freq, frames)`,
            its compressed magnitude (same shape, real), and the RMS `(batch, 1)`.
        """
        scale = wav.pow(2).mean(-1, keepdim=True).sqrt().clamp_min(1e-5)
        spec = stft(wav / scale, self.n_fft, self.hop)
        power = spec.real.square() + spec.imag.square()
        return spec, (power + _EPS).pow(self.power / 2), scale

    def synthesize(self, spec: torch.Tensor, frames: torch.Tensor, scale: torch.Tensor,
                   length: int) -> torch.Tensor:
        """The signal `(batch, length)` whose magnitude is the compressed `frames`, with the
        phase of `spec` (from `analyse`), at the level `scale`."""
        magnitude = frames.pow(1 / self.power)
        gain = magnitude / (spec.real.square() + spec.imag.square() + _EPS).sqrt()
        if self.bounded:
            gain = gain.clamp(max=1.0)
        return istft(spec * gain, self.n_fft, self.hop, length) * scale

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """Noisy `(batch, time)` → MAE encoder → CAE decoder → speech `(batch, 1, time)`."""
        spec, frames, scale = self.analyse(wav)
        speech = self.clean.decode(self.mixture.encode(frames))
        return self.synthesize(spec, speech, scale, wav.shape[-1]).unsqueeze(1)
