"""Summary statistics of a scored run: per-metric statistics, counts and failures in words.

NumPy gives the statistics; what is added here is the bookkeeping over NaN (a metric is
summarised over the files where it could be computed, and how many could not is kept) and the
failure reasons counted into sentences a reader can act on ("pesq failed on 2 files: 1 silent
reference, 1 too short").
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

import numpy as np


def stats(values: Iterable[float]) -> dict:
    """Statistics over the finite values, and how many were not.

    Args:
        values: scores, NaN for missing.

    Returns:
        ``{"mean", "median", "std" (sample; 0 for one value), "ci95" ([low, high] of the
        mean: Student's t over the files; NaN for fewer than two), "min", "max", "count"
        (finite values), "nan" (the others)}``; the statistics are NaN when no value is
        finite.
    """
    from scipy.stats import t as student_t

    arr = np.asarray(list(values), dtype=np.float64)
    ok = arr[np.isfinite(arr)]
    if ok.size == 0:
        return {"mean": math.nan, "median": math.nan, "std": math.nan,
                "ci95": [math.nan, math.nan], "min": math.nan, "max": math.nan, "count": 0,
                "nan": int(arr.size)}
    mean, std = float(ok.mean()), float(ok.std(ddof=1)) if ok.size > 1 else 0.0
    half = (float(student_t.ppf(0.975, ok.size - 1)) * std / math.sqrt(ok.size)
            if ok.size > 1 else math.nan)
    return {"mean": mean, "median": float(np.median(ok)), "std": std,
            "ci95": [mean - half, mean + half], "min": float(ok.min()), "max": float(ok.max()),
            "count": int(ok.size), "nan": int(arr.size - ok.size)}


def summarize(rows: list[dict], unpaired: list[dict], metrics: Sequence[str],
              has_input: bool) -> dict:
    """Per-metric statistics for input / enhanced / improvement, and the failures counted.

    Args:
        rows: the scored rows (`scoring.score_file`).
        unpaired: the files without a partner (`pairing.pair_files`).
        metrics: the metrics scored, in report order.
        has_input: whether a noisy input was scored.

    Returns:
        A JSON-friendly dict: ``metrics``, ``has_input``, ``files`` (counts: total, paired,
        scored, failed, partial, unpaired, missing_input), ``scores`` ({metric: {"enhanced",
        and with an input "input" and "improvement": `stats`}}, plus ``input_snr``),
        ``failures`` ({column: {reason: files}}), ``failure_text`` (sentences), ``notes``
        ({kind: files}), ``pesq_modes``, ``sample_rates`` and ``unpaired``.
    """
    metrics = tuple(metrics)
    scores: dict[str, dict] = {}
    for m in metrics:
        entry = {"enhanced": stats(r[m] for r in rows)}
        if has_input:
            entry["input"] = stats(r[f"{m}_input"] for r in rows)
            entry["improvement"] = stats(r[f"{m}_delta"] for r in rows)
        scores[m] = entry
    if has_input:
        scores["input_snr"] = {"input": stats(r["input_snr"] for r in rows)}

    failures: dict[str, Counter] = {}
    for r in rows:
        for col, reason in r["errors"].items():
            failures.setdefault(col, Counter())[reason] += 1

    notes = Counter(k for r in rows for k in r["notes"] if not k.startswith("unreadable"))
    missing = Counter(u["missing"] for u in unpaired)
    return {
        "metrics": list(metrics),
        "has_input": has_input,
        "files": {
            "total": len(rows) + sum(n for k, n in missing.items() if k != "input"),
            "paired": len(rows),
            "scored": sum(r["status"] != "failed" for r in rows),
            "failed": sum(r["status"] == "failed" for r in rows),
            "partial": sum(r["status"] == "partial" for r in rows),
            "unpaired": sum(n for k, n in missing.items() if k != "input"),
            "missing_input": missing.get("input", 0),
        },
        "scores": scores,
        "failures": {k: dict(v) for k, v in failures.items()},
        "failure_text": _failure_text(failures, metrics),
        "notes": dict(notes),
        "pesq_modes": dict(Counter(r["pesq_mode"] for r in rows if r.get("pesq_mode"))),
        "sample_rates": {str(k): v for k, v in
                         sorted(Counter(r["sample_rate"] for r in rows if r["sample_rate"]).items())},
        "unpaired": list(unpaired),
    }


def _failure_text(failures: dict[str, Counter], metrics: Sequence[str]) -> list[str]:
    """One sentence per failed column; an input column failing exactly as its enhanced
    column is said once, on the enhanced one."""
    text = []
    for col in ["file", "input_file"] + [c for m in metrics for c in (m, f"{m}_input")]:
        c = failures.get(col)
        if not c:
            continue
        parts = ", ".join(f"{n} {reason}" for reason, n in
                          sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        n_files = sum(c.values())
        files = f"{n_files} file{'s' if n_files != 1 else ''}"
        if col == "file":
            text.append(f"{files} not scored: {parts}")
        elif col == "input_file":
            text.append(f"noisy input not scored on {files}: {parts}")
        elif col.endswith("_input"):
            if failures.get(col[:-6]) != c:  # identical to the enhanced side: said there
                text.append(f"{col[:-6]} (input) failed on {files}: {parts}")
        else:
            same = failures.get(f"{col}_input") == c
            text.append(f"{col} failed on {files}: {parts}"
                        + (" (on the noisy input too)" if same else ""))
    return text
