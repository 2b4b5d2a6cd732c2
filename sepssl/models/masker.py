"""The default enhancer: a small STFT mask estimator (log-power in, BiGRU, sigmoid masks out).

On a CPU, STFT-domain models train far more per minute than time-domain ones (asteroid's
ConvTasNet / DPRNN took ~11 s a step against ~0.65 s here at the same batch), so this is the
default; asteroid's models are available through `sepssl.models.build_model` for GPU users.
"""
from __future__ import annotations

import torch
from torch import nn

from ..dsp.stft import apply_mask, istft, log_power, stft


class STFTMasker(nn.Module):
    """`(batch, time)` → `(batch, n_outputs, time)`, one real mask per output on the noisy STFT.

    The log-power features are centred per example, so the masks do not depend on input level.
    """

    def __init__(self, n_outputs: int = 1, sample_rate: int = 16000, n_fft: int = 512,
                 hop: int = 128, hidden: int = 192, layers: int = 2, dropout: float = 0.0):
        super().__init__()
        self.n_outputs, self.sample_rate, self.n_fft, self.hop = n_outputs, sample_rate, n_fft, hop
        n_freq = n_fft // 2 + 1
        self.rnn = nn.GRU(n_freq, hidden, num_layers=layers, batch_first=True,
                          bidirectional=True, dropout=dropout if layers > 1 else 0.0)
        self.mask = nn.Linear(2 * hidden, n_outputs * n_freq)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        length = wav.shape[-1]
        if length < self.n_fft:  # torch.stft's centred frames need n_fft // 2 samples of context
            wav = nn.functional.pad(wav, (0, self.n_fft - length))
        with torch.autocast(wav.device.type, enabled=False):  # FFTs stay in float32 under AMP
            spec = stft(wav.float(), self.n_fft, self.hop)           # (B, F, N)
            feats = log_power(spec).transpose(1, 2)                  # (B, N, F)
            feats = feats - feats.mean(dim=(1, 2), keepdim=True)
        hidden, _ = self.rnn(feats)
        masks = torch.sigmoid(self.mask(hidden)).float()             # (B, N, M*F)
        batch, frames, _ = masks.shape
        masks = masks.reshape(batch, frames, self.n_outputs, -1).permute(0, 2, 3, 1)
        with torch.autocast(wav.device.type, enabled=False):
            est = istft(apply_mask(spec.unsqueeze(1), masks), self.n_fft, self.hop, wav.shape[-1])
        return est[..., :length]
