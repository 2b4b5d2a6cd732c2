"""Offline premixing of speech and noise (plain numpy): levels, SNR, clipping guard.

Why here and not in `sepssl.dsp.mixing`: this runs once per corpus file during data
preparation, on numpy arrays, and the corpus must not depend on the training code.
"""
from __future__ import annotations

import numpy as np


def rms(x: np.ndarray) -> float:
    """Root mean square of `x` (0 for an empty array), computed in float64."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def set_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """Scale `x` to an RMS level relative to full scale.

    Args:
        x (numpy.ndarray): Waveform.
        dbfs (float): Target RMS level, in dB relative to full scale.

    Returns:
        numpy.ndarray: Float32 scaled waveform.
    """
    return (x * (10 ** (dbfs / 20) / (rms(x) + 1e-12))).astype(np.float32)


def add_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Add noise to speech at a given SNR: `speech + g·noise` with
    10·log10(‖speech‖² / ‖g·noise‖²) = `snr_db`.

    Args:
        speech (numpy.ndarray): Speech, shape `(time,)`.
        noise (numpy.ndarray): Noise, same shape.
        snr_db (float): SNR, in dB.

    Returns:
        numpy.ndarray: Float32 mixture, shape `(time,)`.
    """
    g = rms(speech) / ((rms(noise) + 1e-12) * 10 ** (snr_db / 20))
    return (speech.astype(np.float64) + g * noise.astype(np.float64)).astype(np.float32)


def limit_peak(arrays: list[np.ndarray], peak: float = 0.95) -> list[np.ndarray]:
    """Scale all arrays by one factor so that the largest peak is at most `peak` (keeps SNR
    and the clean/noisy pairing).

    Args:
        arrays (list[numpy.ndarray]): Signals scaled together (e.g. clean, noise, noisy).
        peak (float, optional): Largest allowed absolute sample value. (Default: ``0.95``)

    Returns:
        list[numpy.ndarray]: The arrays, unchanged if already below `peak`.
    """
    top = max(float(np.abs(a).max()) for a in arrays)
    if top <= peak:
        return arrays
    return [(a * (peak / top)).astype(np.float32) for a in arrays]


def fade(x: np.ndarray, n: int) -> np.ndarray:
    """Short raised-cosine fade-in and fade-out (no clicks at cut points).

    Args:
        x (numpy.ndarray): Waveform, shape `(time,)`.
        n (int): Fade length, in samples (at most half the signal).

    Returns:
        numpy.ndarray: Float32 faded copy (`x` itself if too short to fade).
    """
    n = min(n, len(x) // 2)
    if n < 2:
        return x
    w = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
    y = x.astype(np.float32).copy()
    y[:n] *= w
    y[-n:] *= w[::-1]
    return y


def cut_at_pause(x: np.ndarray, n: int, rate: int, search_s: float = 0.6,
                 min_len: int = 0) -> np.ndarray:
    """Shorten `x` to at most `n` samples, ending at the quietest 20 ms frame in the last
    `search_s` seconds before `n` (so a cut rarely falls in the middle of a word), never
    shorter than `min_len`.

    Args:
        x (numpy.ndarray): Waveform, shape `(time,)`.
        n (int): Largest length, in samples.
        rate (int): Sample rate, in Hz.
        search_s (float, optional): How far back from `n` to look for a pause, in seconds.
            (Default: ``0.6``)
        min_len (int, optional): Shortest allowed length, in samples. (Default: ``0``)

    Returns:
        numpy.ndarray: `x` itself if not longer than `n`, else its start.
    """
    if len(x) <= n:
        return x
    hop = int(0.02 * rate)
    lo = min(n, max(hop, min_len, n - int(search_s * rate)))
    ends = np.arange(lo, n + 1, hop // 2)
    energy = [float(np.mean(np.square(x[e - hop:e], dtype=np.float64))) for e in ends]
    return x[: int(ends[int(np.argmin(energy))])]
