"""Audio to listen to in the report: the worst, the median and the best file by the main
metric's improvement, each as input, output and reference, embedded in the page.

Why: numbers say how much, ears say what (musical noise, cut-off words, a model that removes
the speech with the noise). The clips are embedded as base64 WAV data (the first
`CLIP_SECONDS`, 16-bit mono), so the page stays one self-contained file with no links.
"""
from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping

import soundfile as sf

from .. import audio
from ..errors import AudioError
from .formatting import decimals, fmt, label

CLIP_SECONDS = 8.0
#: The metric that ranks the files, the first one scored.
RANK_BY = ("pesq", "si_sdr", "stoi", "estoi")


def rank_metric(summary: dict) -> str | None:
    """The metric the examples are chosen by (None when none of `RANK_BY` was scored)."""
    return next((m for m in RANK_BY if m in summary["metrics"]), None)


def pick_examples(rows: list[dict], summary: dict) -> list[tuple[str, dict]]:
    """The worst, median and best scored file by `rank_metric`'s improvement (or its score
    without an input), as ("worst" | "median" | "best", row); fewer when fewer files scored."""
    m = rank_metric(summary)
    if m is None:
        return []
    key = f"{m}_delta" if summary["has_input"] else m
    ok = sorted((r for r in rows if isinstance(r.get(key), float) and math.isfinite(r[key])),
                key=lambda r: (r[key], r["file"]))
    if not ok:
        return []
    picks = {"worst": ok[0], "median": ok[(len(ok) - 1) // 2], "best": ok[-1]}
    seen, out = set(), []
    for name, row in picks.items():
        if row["file"] not in seen:
            seen.add(row["file"])
            out.append((name, row))
    return out


def clip_data_uri(path) -> str | None:
    """The first `CLIP_SECONDS` of an audio file (channel 0) as a `data:audio/wav;base64,` URI;
    None when it cannot be read."""
    try:
        rate = audio.info(path).sample_rate
        x = audio.read_span(path, 0, int(CLIP_SECONDS * rate))
    except (RuntimeError, OSError, AudioError):
        return None
    buf = io.BytesIO()
    sf.write(buf, x[0].numpy(), rate, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def examples(rows: list[dict], summary: dict, paths: Mapping[str, dict]) -> list[dict]:
    """The report's listening section: per picked file, its scores and clips.

    Args:
        rows: the scored rows.
        summary: the summary (its metrics and `has_input`).
        paths: file -> {"reference", "estimate", "input"} paths (input may be None).

    Returns:
        ``[{"which", "file", "scores" (text), "clips": [(what, data URI or None)]}]``.
    """
    m = rank_metric(summary)
    out = []
    for which, row in pick_examples(rows, summary):
        p = paths.get(row["file"], {})
        clips = [("input (noisy)", p.get("input")), ("enhanced", p.get("estimate")),
                 ("reference (clean)", p.get("reference"))]
        d = decimals(m)
        score = (f"{label(m)} {fmt(row.get(m + '_input'), d)} → {fmt(row.get(m), d)} "
                 f"({fmt(row.get(m + '_delta'), d, sign=True)})" if summary["has_input"]
                 else f"{label(m)} {fmt(row.get(m), d)}")
        out.append({"which": which, "file": row["file"], "scores": score,
                    "clips": [(what, clip_data_uri(path)) for what, path in clips
                              if path is not None]})
    return out
