"""Lossy codec round-trips: what a voice call or a compressed voice message does to a recording.

Opus goes through libsndfile (soundfile writes and reads Ogg Opus in memory; its compression
level sets the bitrate), G.722 through the `g722` package the corpus already decodes the Asterisk
prompts with. Both are CPU libraries that take one signal at a time, so the batched recording
chain (`sepssl.tasks.recording_chain`) sends only the rows that go through a codec here, one by
one; what is hand-written is only the glue: the bitrate → compression-level map (measured, below),
G.722's delay, and the band a codec removed (`codec_band`, `cut_band`), so that the target can
lose it too.
"""
from __future__ import annotations

import io

import numpy as np
import soundfile as sf
import torch

from .errors import ConfigError

OPUS_RATES = (8000, 12000, 16000, 24000, 48000)   # the rates libopus codes
G722_RATE = 16000
G722_DELAY = 22   # samples at 16 kHz: its QMF analysis + synthesis (cross-correlation, tests)

# libsndfile's Opus compression level sets the bitrate, from about 256 kbit/s (0) to 6 (1),
# not linearly on speech (VBR). Measured on 67 s of corpus v2 test speech at 16 kHz: level →
# kbit/s; between the points the level is interpolated (at 6 kbit/s the band stops at 4 kHz).
OPUS_KBPS_RANGE = (6.0, 256.0)
_OPUS_KBPS = (6.2, 10.5, 14.9, 18.9, 23.0, 27.2, 37.3, 57.0, 135.2, 261.5)
_OPUS_LEVEL = (1.0, 0.98, 0.96, 0.94, 0.92, 0.90, 0.85, 0.80, 0.5, 0.0)


def check_rate(codec: str, rate: int) -> None:
    """A ConfigError when `codec` cannot code audio at `rate` Hz."""
    if codec == "opus" and rate not in OPUS_RATES:
        raise ConfigError(f"task.recording_chain: Opus codes {OPUS_RATES} Hz only, "
                          f"not sample_rate {rate}")
    if codec == "g722" and rate != G722_RATE:
        raise ConfigError(f"task.recording_chain: G.722 codes 16000 Hz only, not sample_rate "
                          f"{rate}; leave it out with task.recording_chain.codecs=[opus]")


def opus_round_trip(x: np.ndarray, rate: int, kbps: float) -> np.ndarray:
    """Encode to Ogg Opus at about `kbps` kbit/s and decode.

    Args:
        x: float32 signal `(time,)` in [-1, 1].
        rate: its sample rate (one of `OPUS_RATES`).
        kbps: bitrate, 6 to 256 (what speech gets; the level is interpolated from measured
            pairs).

    Returns:
        The decoded float32 signal, same length (libsndfile removes Opus's pre-skip, so it is
        aligned with `x`).
    """
    level = float(np.interp(kbps, _OPUS_KBPS, _OPUS_LEVEL))
    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1, 1), rate, format="OGG", subtype="OPUS", compression_level=level)
    buf.seek(0)
    y, _ = sf.read(buf, dtype="float32")
    return _fit(y, len(x))


def g722_round_trip(x: np.ndarray) -> np.ndarray:
    """Encode to G.722 at 64 kbit/s and decode, its delay removed: `(time,)` at 16 kHz ->
    the same length."""
    try:
        import G722
    except ImportError:
        raise ConfigError("G.722 needs the g722 package: pip install g722") from None

    pcm = np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)
    pcm = np.concatenate([pcm, np.zeros(G722_DELAY + 2, np.int16)])   # room for the delay
    coded = G722.G722(G722_RATE, 64000).encode(pcm)
    y = np.asarray(G722.G722(G722_RATE, 64000).decode(coded), dtype=np.float32) / 32768
    return _fit(y[G722_DELAY:], len(x))


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    return np.pad(y, (0, max(0, n - len(y))))[:n].astype(np.float32)


def codec_band(before: torch.Tensor, after: torch.Tensor, rate: int, band_hz: float = 250.0,
               floor_db: float = -20.0) -> torch.Tensor:
    """Where a codec's band ends: the lowest `band_hz` edge above which the coded signal keeps
    less than `floor_db` of the power the signal had there. Summing everything above an edge
    (not band by band) keeps faint leakage in a band the input hardly filled from counting as
    kept band.

    Args:
        before, after: the signal before and after the codec, `(batch, time)`.
        rate: sample rate in Hz.

    Returns:
        Cut-off frequencies in Hz, `(batch,)` (Nyquist when nothing was cut).
    """
    n = before.shape[-1]
    freqs = torch.fft.rfftfreq(n, 1 / rate).to(before.device)
    band = (freqs // band_hz).long()
    bands = int(band.max()) + 1
    p_before = torch.zeros(before.shape[0], bands, device=before.device, dtype=before.dtype)
    p_after = torch.zeros_like(p_before)
    p_before.index_add_(1, band, torch.fft.rfft(before).abs().pow(2))
    p_after.index_add_(1, band, torch.fft.rfft(after).abs().pow(2))
    above = lambda p: torch.flip(torch.cumsum(torch.flip(p, [1]), 1), [1])  # noqa: E731
    cut = above(p_after) < above(p_before) * 10 ** (floor_db / 10)      # (batch, bands)
    first = torch.where(cut.any(1), cut.int().argmax(1), bands)   # the lowest cut edge
    return torch.clamp(first.to(before.dtype) * band_hz, max=rate / 2)


def cut_band(x: torch.Tensor, top: torch.Tensor, rate: int) -> torch.Tensor:
    """`x` `(batch, ..., time)` with everything above `top` `(batch,)` Hz removed (a brick
    wall in the rFFT of the whole signal): the band a codec cut, taken from a target too."""
    n = x.shape[-1]
    freqs = torch.fft.rfftfreq(n, 1 / rate).to(x.device)
    keep = (freqs <= top.reshape(-1, *([1] * (x.dim() - 1)))).to(x.dtype)
    return torch.fft.irfft(torch.fft.rfft(x) * keep, n=n)


def round_trip(rows: torch.Tensor, codecs: list[str], kbps: list[float], rate: int
               ) -> torch.Tensor:
    """Each row `(batch, time)` through its codec ("opus" at its `kbps`, or "g722"), on the
    CPU; each row is scaled into [-1, 1] before coding and back after, as a recorder would
    set its level. Returns the coded rows on the rows' device and dtype."""
    x = rows.detach().float().cpu().numpy()
    out = np.empty_like(x)
    for i, (codec, rate_kbps) in enumerate(zip(codecs, kbps)):
        peak = max(float(np.abs(x[i]).max()), 1e-8)
        y = x[i] / peak * 0.9
        y = opus_round_trip(y, rate, rate_kbps) if codec == "opus" else g722_round_trip(y)
        out[i] = y / 0.9 * peak
    return torch.from_numpy(out).to(rows.device, rows.dtype)
