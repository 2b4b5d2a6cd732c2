"""Per-signal metrics: PESQ, STOI / ESTOI, SI-SDR and (optionally) DNSMOS, over arrays.

The metrics themselves come from their libraries: `pesq` (ITU-T P.862.2 wide-band at 16 kHz,
P.862 narrow-band at 8 kHz), `pystoi` (STOI and extended STOI), `sepssl.losses.si_sdr` and
`speechmos` (DNSMOS P.835). This module exists to call them the same way for every file and to
turn their failures into data: pesq 0.0.4 raises `PesqError` subclasses with *bytes* messages
for a silent reference or a buffer under 0.25 s, but a plain `ValueError` for a silent estimate
or an unsupported rate, and pystoi returns a placeholder 1e-5 (with a warning) when there are
too few speech frames. No library maps these to a NaN and a short human reason, so that is
written here; a reason is what the summary counts ("pesq failed on 2 files: 1 silent
reference, 1 too short").

Choices a reader of the numbers should know:

* PESQ rate: 16 kHz is scored wide-band, 8 kHz narrow-band; any other rate is resampled
  (``sepssl.audio.resample``) to 16 kHz when it is at least 16 kHz, else to 8 kHz
  (`pesq_mode_for`). STOI resamples internally (to 10 kHz); SI-SDR uses the signal's rate.
* Several channels are scored pair by pair and averaged; a NaN on any channel makes the
  metric NaN.
* A digitally silent (or non-finite) reference or estimate makes every reference-based metric
  NaN ("silent reference", "silent estimate"): SI-SDR and STOI are 0/0 there and any number
  would be an artefact.

Everything here is pure: arrays in, numbers and reasons out, no files.
"""
from __future__ import annotations

import importlib.util
import math
import warnings
from typing import Sequence

import numpy as np
import torch

from .. import audio
from ..errors import SepsslError
from ..files import first_line
from ..losses import si_sdr as _si_sdr

#: Metrics computed by default, in report order.
DEFAULT_METRICS = ("pesq", "stoi", "estoi", "si_sdr")
#: Reference-free DNSMOS outputs added with ``dnsmos=True`` (needs the `speechmos` package).
DNSMOS_METRICS = ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak")
#: Every metric `score_pair` knows.
KNOWN_METRICS = DEFAULT_METRICS + DNSMOS_METRICS
#: PESQ refuses shorter signals (BufferTooShortError).
PESQ_MIN_SECONDS = 0.25


def score_pair(ref, est, sample_rate: int, metrics: Sequence[str] = DEFAULT_METRICS) -> dict:
    """Score an estimate against its reference.

    Lengths that differ are trimmed to the shorter; when the channel counts differ only
    channel 0 of each is scored, else every channel pair is scored and the scores averaged.

    Args:
        ref: the reference, `(time,)` or `(channels, time)`, NumPy array or tensor.
        est: the estimate, `(time,)` or `(channels, time)`, at the same rate as `ref`.
        sample_rate: the rate of both, in Hz.
        metrics: names from `KNOWN_METRICS`.

    Returns:
        ``{metric: float, ..., "errors": {metric: reason}}``: a metric that cannot be computed
        is NaN and its reason is in ``errors`` (empty when all succeeded).

    Raises:
        SepsslError: an unknown metric, or a DNSMOS metric without `speechmos` installed.
    """
    metrics = check_metrics(metrics)
    ref2, est2 = _as_2d(ref), _as_2d(est)
    n = min(ref2.shape[-1], est2.shape[-1])
    ref2, est2 = ref2[..., :n], est2[..., :n]
    if ref2.shape[0] != est2.shape[0]:
        ref2, est2 = ref2[:1], est2[:1]
    values, errors = score_channels(ref2, est2, int(sample_rate), metrics, "estimate")
    return {**values, "errors": errors}


def score_channels(ref: np.ndarray, deg: np.ndarray, rate: int, metrics: Sequence[str],
                   deg_name: str, ref_pesq: list | None = None) -> tuple[dict, dict]:
    """Score channel pairs and average them; a failure on any channel makes the metric NaN.

    Args:
        ref: the reference, `(channels, time)`, float64.
        deg: the signal scored (estimate or noisy input), `(channels, time)`, same shape.
        rate: their sample rate in Hz.
        metrics: names from `KNOWN_METRICS` (already checked).
        deg_name: what `deg` is, for reasons ("estimate", "input").
        ref_pesq: per channel, the reference already brought to PESQ's rate
            (`pesq_input`), to resample it once for both sides; None computes it.

    Returns:
        `(values, errors)`: ``{metric: float}`` and ``{metric: reason}`` for the NaNs (the
        first channel's reason when several failed).
    """
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    per_channel = []
    for c in range(ref.shape[0]):
        rp = ref_pesq[c] if ref_pesq is not None else None
        per_channel.append(_score_mono(ref[c], deg[c], rate, metrics, deg_name, rp))
    for m in metrics:
        vals = [v[m] for v, _ in per_channel]
        reasons = [e[m] for _, e in per_channel if m in e]
        if reasons:
            values[m] = math.nan
            errors[m] = reasons[0]
        else:
            values[m] = float(np.mean(vals))
    return values, errors


def _score_mono(ref: np.ndarray, deg: np.ndarray, rate: int, metrics: Sequence[str],
                deg_name: str, ref_pesq: tuple[np.ndarray, int] | None = None
                ) -> tuple[dict, dict]:
    """All metrics for one mono pair: `(values, errors)`; failures are NaN with a reason."""
    ref = np.asarray(ref, dtype=np.float64)
    deg = np.asarray(deg, dtype=np.float64)
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    common = _precheck(ref, deg, deg_name)
    for m in metrics:
        if m.startswith("dnsmos_"):
            continue  # reference-free: scored separately, and a silent reference is irrelevant
        if common:
            values[m], errors[m] = math.nan, common
            continue
        try:
            if m == "pesq":
                v, why = _pesq(ref, deg, rate, ref_pesq, deg_name)
            elif m in ("stoi", "estoi"):
                v, why = _stoi(ref, deg, rate, extended=(m == "estoi"))
            elif m == "si_sdr":
                v = float(_si_sdr(torch.from_numpy(deg), torch.from_numpy(ref)))
                why = None if math.isfinite(v) else "non-finite result"
            else:  # pragma: no cover - check_metrics rejects these
                raise ValueError(m)
        except Exception as exc:  # a metric bug must not cost the whole run
            v, why = math.nan, f"{type(exc).__name__}: {exc_text(exc)}"
        values[m] = v if why is None else math.nan
        if why is not None:
            errors[m] = why
    dn = [m for m in metrics if m.startswith("dnsmos_")]
    if dn:
        v, e = _dnsmos(deg, rate, dn, deg_name)
        values.update(v)
        errors.update(e)
    return values, errors


def _precheck(ref: np.ndarray, deg: np.ndarray, deg_name: str) -> str | None:
    """A reason shared by every reference-based metric, or None."""
    if not np.isfinite(ref).all():
        return "NaN/Inf in reference"
    if not np.isfinite(deg).all():
        return f"NaN/Inf in {deg_name}"
    if not np.any(ref):
        return "silent reference"
    if not np.any(deg):
        return f"silent {deg_name}"
    return None


# --------------------------------------------------------------------------- PESQ

def pesq_mode_for(rate: int) -> tuple[int, str]:
    """The rate PESQ runs at for a signal at `rate` Hz, and its mode.

    Args:
        rate: the signal's sample rate in Hz.

    Returns:
        ``(16000, "wb")`` for rates of 16 kHz and above, else ``(8000, "nb")``.
    """
    return (16000, "wb") if rate >= 16000 else (8000, "nb")


def pesq_input(x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    """A mono signal brought to PESQ's rate (`pesq_mode_for`).

    Args:
        x: the signal, `(time,)`.
        rate: its sample rate in Hz.

    Returns:
        `(signal, rate)`: float64 `(time',)` at 16 or 8 kHz (unchanged when already there).
    """
    fs, _ = pesq_mode_for(rate)
    if fs != rate:
        x = audio.resample(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
                           rate, fs).double().numpy()
    return x, fs


def _pesq(ref: np.ndarray, deg: np.ndarray, rate: int, ref_pesq, deg_name: str
          ) -> tuple[float, str | None]:
    import pesq as pesqlib

    ref16, fs = ref_pesq if ref_pesq is not None else pesq_input(ref, rate)
    deg16, _ = pesq_input(deg, rate)
    n = min(len(ref16), len(deg16))
    if n < PESQ_MIN_SECONDS * fs:
        return math.nan, "too short"
    mode = pesq_mode_for(rate)[1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = pesqlib.pesq(fs, ref16[:n], deg16[:n], mode)
    except Exception as exc:
        return math.nan, pesq_reason(exc, deg_name)
    return pesq_value(value, deg_name)


def pesq_value(result, deg_name: str = "estimate") -> tuple[float, str | None]:
    """A result of `pesq.pesq`, or an item of `pesq.pesq_batch`'s list, as score and reason.

    `pesq_batch` with several processes puts exception objects in its result list, and
    `on_error=RETURN_VALUES` gives negative error codes: both become NaN with a reason.

    Args:
        result: a number or an exception.
        deg_name: what was scored, for reasons ("estimate", "input").

    Returns:
        ``(score, None)``, or ``(NaN, reason)``.
    """
    if isinstance(result, BaseException):
        return math.nan, pesq_reason(result, deg_name)
    value = float(result)
    if not math.isfinite(value) or value < 0:
        return math.nan, f"pesq error code {value:g}" if math.isfinite(value) else "non-finite result"
    return value, None


def pesq_reason(exc: BaseException, deg_name: str = "estimate") -> str:
    """A short human reason for an exception raised (or returned) by pesq 0.0.4.

    Args:
        exc: the exception.
        deg_name: what was scored, for reasons ("estimate", "input").

    Returns:
        E.g. "too short", "silent estimate", "no speech detected in reference".
    """
    import pesq as pesqlib

    if isinstance(exc, pesqlib.NoUtterancesError):
        return "no speech detected in reference"
    if isinstance(exc, pesqlib.BufferTooShortError):
        return "too short"
    if isinstance(exc, pesqlib.InvalidSampleRateError):
        return "unsupported sample rate"
    if isinstance(exc, pesqlib.OutOfMemoryError):
        return "out of memory"
    msg = exc_text(exc)
    if isinstance(exc, ValueError) and "NaN" in msg:
        # pesq normalises by the peak and a silent estimate turns into NaN inside the C code
        return f"silent {deg_name}"
    if isinstance(exc, ValueError) and ("fs" in msg or "band" in msg):
        return "unsupported sample rate"
    return f"pesq error: {msg}"


# --------------------------------------------------------------------------- STOI, DNSMOS

def _stoi(ref: np.ndarray, deg: np.ndarray, rate: int, extended: bool
          ) -> tuple[float, str | None]:
    from pystoi import stoi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(stoi(ref, deg, rate, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        # fewer than 30 non-silent frames (short file or mostly silent reference): pystoi
        # returns 1e-5 here, a placeholder, not a score
        return math.nan, "too little speech"
    if not math.isfinite(value):
        return math.nan, "non-finite result"
    return value, None


def dnsmos_available() -> bool:
    """Whether the optional `speechmos` package (DNSMOS) is installed."""
    return importlib.util.find_spec("speechmos") is not None


def _dnsmos(deg: np.ndarray, rate: int, names: Sequence[str], deg_name: str
            ) -> tuple[dict, dict]:
    """Reference-free DNSMOS (P.835 SIG/BAK/OVRL) through `speechmos`, at 16 kHz."""
    nan = {m: math.nan for m in names}
    if not np.isfinite(deg).all():
        return nan, {m: f"NaN/Inf in {deg_name}" for m in names}
    if not np.any(deg):
        return nan, {m: f"silent {deg_name}" for m in names}
    try:
        from speechmos import dnsmos
        x = deg
        if rate != 16000:
            x = audio.resample(torch.from_numpy(x.astype(np.float32)), rate, 16000).double().numpy()
        peak = np.abs(x).max()
        if peak > 1:
            x = x / peak
        out = dnsmos.run(x.astype(np.float32), 16000)
        keys = {"dnsmos_ovrl": "ovrl_mos", "dnsmos_sig": "sig_mos", "dnsmos_bak": "bak_mos"}
        return {m: float(out[keys[m]]) for m in names}, {}
    except Exception as exc:
        return nan, {m: f"dnsmos error: {exc_text(exc)}" for m in names}


# --------------------------------------------------------------------------- helpers

def check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    """`metrics` as a tuple, after checking every name is known (and DNSMOS installed).

    Raises:
        SepsslError: an unknown name, or a DNSMOS metric without `speechmos`.
    """
    metrics = tuple(metrics)
    unknown = [m for m in metrics if m not in KNOWN_METRICS]
    if unknown:
        raise SepsslError(f"unknown metric(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(KNOWN_METRICS)}")
    if any(m.startswith("dnsmos_") for m in metrics) and not dnsmos_available():
        raise SepsslError("DNSMOS needs the optional package 'speechmos': pip install 'sepssl[dnsmos]'")
    return metrics


def _as_2d(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x[None]
    if x.ndim == 2:
        return x
    raise ValueError(f"expected (time,) or (channels, time) audio, got shape {x.shape}")


def exc_text(exc: BaseException) -> str:
    """An exception's message as str (pesq's are bytes), one line, at most 200 characters."""
    return first_line(exc, 200)
