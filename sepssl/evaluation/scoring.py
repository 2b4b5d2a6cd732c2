"""One row of scores per file pair: read the files, align them, score enhanced and input.

This is the unit of work the pool hands to a worker, so it never raises: an unreadable file
or a bug becomes a failed row with its reason, and the other files are still scored.

How the files of a pair are brought together before scoring (each is noted in the row):

* Rates: an estimate or input at another rate than its reference is resampled to the
  reference's rate.
* Channels: when reference, estimate (and input) have the same number of channels every
  channel pair is scored and averaged; when the counts differ, channel 0 of each is scored.
* Lengths: estimate / input / reference are trimmed to the shortest.
* The unprocessed input is scored against the same reference when given, and the row holds
  the improvement (enhanced − input) per metric and the input's SNR.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
import torch

from .. import audio
from ..errors import AudioError
from ..losses import snr as _snr
from .metrics import exc_text, pesq_input, pesq_mode_for, score_channels


class FileTask(NamedTuple):
    """What a worker needs to score one pair (picklable, paths as str)."""
    file: str               #: relative path shown in the report
    reference: str
    estimate: str
    input: str | None       #: the noisy input, or None
    metrics: tuple[str, ...]
    has_input: bool         #: whether the run has an input side (columns exist even if missing)
    allow_short: bool = False   #: score an estimate much shorter than its reference (overlap)


# an estimate shorter than this share of its reference is a failure, not a trimmed score
MIN_LENGTH_SHARE = 0.9


def score_file(task: FileTask) -> dict:
    """Read and score the files of one pair. Never raises.

    Args:
        task: the pair and the metrics.

    Returns:
        One row: ``file``, ``status`` ("ok", "partial" when a metric failed, "failed" when
        nothing could be scored), ``sample_rate``, ``duration_s``, ``channels``,
        ``pesq_mode``, each metric (NaN when it failed), with an input also
        ``{metric}_input``, ``{metric}_delta`` and ``input_snr``, then ``errors``
        ({column: reason}) and ``notes`` ({kind: text}).
    """
    try:
        return _score_file(task)
    except Exception as exc:  # a bug or an odd file must not cost the other files
        row = empty_row(task.file, task.metrics, task.has_input)
        row["status"] = "failed"
        row["errors"]["file"] = f"internal error: {type(exc).__name__}: {exc_text(exc)}"
        return row


def empty_row(rel: str, metrics: Sequence[str], has_input: bool) -> dict:
    """A row with every column present and every score NaN (see `score_file`)."""
    row: dict = {"file": rel, "status": "ok", "sample_rate": None, "duration_s": math.nan,
                 "channels": None, "pesq_mode": None}
    for m in metrics:
        row[m] = math.nan
    if has_input:
        for m in metrics:
            row[f"{m}_input"] = math.nan
        for m in metrics:
            row[f"{m}_delta"] = math.nan
        row["input_snr"] = math.nan
    row["errors"] = {}
    row["notes"] = {}
    return row


def _read(path: str, what: str, row: dict) -> tuple[np.ndarray, int] | None:
    """(samples, rate), or None with the reason in the row (an unreadable input only costs
    the input-side scores, so it is keyed apart from the reference / estimate)."""
    try:
        wav, rate = audio.read(path, sample_rate=None, check=False)
    except AudioError as exc:
        row["errors"]["input_file" if what == "input" else "file"] = f"unreadable {what}"
        row["notes"][f"unreadable {what}"] = exc_text(exc)
        return None
    return wav.numpy(), int(rate)


def _score_file(task: FileTask) -> dict:
    metrics = task.metrics
    row = empty_row(task.file, metrics, task.has_input)
    ref = _read(task.reference, "reference", row)
    est = _read(task.estimate, "estimate", row)
    noisy = _read(task.input, "input", row) if task.input is not None else None
    if ref is None or est is None:
        row["status"] = "failed"
        return row
    ref_x, rate = ref
    row["sample_rate"] = rate
    est_x = _match_rate(est, rate, "estimate", row)
    noisy_x = _match_rate(noisy, rate, "input", row) if noisy is not None else None

    # channels
    row["channels"] = ref_x.shape[0]
    sides = {"estimate": est_x} if noisy_x is None else {"estimate": est_x, "input": noisy_x}
    if any(x.shape[0] != ref_x.shape[0] for x in sides.values()):
        counts = ", ".join(f"{k} {x.shape[0]}" for k, x in {"reference": ref_x, **sides}.items())
        row["notes"]["channels"] = f"channel counts differ ({counts}); scored channel 0"
        ref_x = ref_x[:1]
        sides = {k: x[:1] for k, x in sides.items()}
        row["channels"] = 1

    # lengths
    lengths = {"reference": ref_x.shape[-1], **{k: x.shape[-1] for k, x in sides.items()}}
    if lengths["estimate"] < MIN_LENGTH_SHARE * lengths["reference"] and not task.allow_short:
        row["status"] = "failed"
        row["errors"]["file"] = (f"estimate too short ({100 * lengths['estimate'] / lengths['reference']:.0f}% "
                                 "of the reference's length; --allow-short scores the overlap)")
        return row
    n = min(lengths.values())
    if len(set(lengths.values())) > 1:
        longest = max(lengths, key=lengths.get)
        diff = max(lengths.values()) - n
        row["notes"]["trimmed"] = (f"lengths differ by {diff} samples ({1000 * diff / rate:.0f} ms, "
                                   f"{longest} longest); scored the first {n}")
        ref_x = ref_x[:, :n]
        sides = {k: x[:, :n] for k, x in sides.items()}
    row["duration_s"] = n / rate

    ref_d = ref_x.astype(np.float64)
    ref_pesq = None
    if "pesq" in metrics:
        fs, mode = pesq_mode_for(rate)
        row["pesq_mode"] = mode
        if fs != rate:
            row["notes"]["pesq resampled"] = f"{rate} Hz scored by PESQ at {fs} Hz ({mode})"
        if np.isfinite(ref_d).all():
            ref_pesq = [pesq_input(ref_d[c], rate) for c in range(ref_d.shape[0])]

    values, errors = score_channels(ref_d, sides["estimate"].astype(np.float64), rate, metrics,
                                    "estimate", ref_pesq)
    row.update(values)
    row["errors"].update(errors)
    if noisy_x is not None:
        nd = sides["input"].astype(np.float64)
        values, errors = score_channels(ref_d, nd, rate, metrics, "input", ref_pesq)
        for m in metrics:
            row[f"{m}_input"] = values[m]
            row[f"{m}_delta"] = row[m] - values[m]  # NaN when either side failed
        row["errors"].update({f"{m}_input": r for m, r in errors.items()})
        if np.any(ref_d) and np.isfinite(nd).all() and np.isfinite(ref_d).all():
            snrs = _snr(torch.from_numpy(nd), torch.from_numpy(ref_d))
            row["input_snr"] = float(snrs.mean())
    if all(math.isnan(row[m]) for m in metrics):
        row["status"] = "failed"          # nothing of the estimate could be scored
        reasons = sorted({r for k, r in row["errors"].items() if not k.endswith("_input")})
        row["errors"].setdefault("file", "; ".join(reasons) or "no metric could be computed")
    elif row["errors"]:
        row["status"] = "partial"
    return row


def _match_rate(loaded: tuple[np.ndarray, int], rate: int, what: str, row: dict) -> np.ndarray:
    x, r = loaded
    if r != rate:
        row["notes"][f"{what} resampled"] = f"{what} at {r} Hz resampled to the reference's {rate} Hz"
        x = audio.resample(torch.from_numpy(x), r, rate).numpy()
    return x
