"""Write an evaluation's report folder: scores.csv, summary.json, summary.md, report.html.

scores.csv holds the raw values for scripts (file names unaltered, NaN as an empty cell,
`csv` quoting), summary.json the summary as strict JSON (NaN as null). The Markdown and HTML
come from `markdown` and `html_page`. Every file is written atomically (`sepssl.files`), so
an interrupted run never leaves a half-written report under the real name.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from ..files import write_text
from .html_page import render_html
from .markdown import summary_markdown


def write_report(report_dir, rows: list[dict], summary: dict,
                 paths: dict[str, dict] | None = None) -> dict[str, Path]:
    """Write the four report files into `report_dir` (created if missing).

    Args:
        report_dir: the folder.
        rows: the scored rows.
        summary: the run's summary (`evaluate`'s).
        paths: file -> {"reference", "estimate", "input"} paths, for the page's audio
            players (None: no players).

    Returns:
        ``{"csv", "json", "markdown", "html": path}``.
    """
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "csv": out / "scores.csv",
        "json": out / "summary.json",
        "markdown": out / "summary.md",
        "html": out / "report.html",
    }
    _write(files["csv"], scores_csv(rows, summary))
    _write(files["json"], json.dumps(_jsonable(summary), indent=2, allow_nan=False) + "\n")
    _write(files["markdown"], summary_markdown(summary))
    _write(files["html"], render_html(rows, summary, paths))
    return files


_write = write_text


def columns(summary: dict) -> list[str]:
    """The columns of scores.csv, in order."""
    metrics = summary["metrics"]
    cols = ["file", "status", "sample_rate", "duration_s", "channels", "pesq_mode", *metrics]
    if summary["has_input"]:
        cols += [f"{m}_input" for m in metrics] + [f"{m}_delta" for m in metrics] + ["input_snr"]
    return cols + ["errors", "notes"]


def scores_csv(rows: list[dict], summary: dict) -> str:
    """scores.csv's text: one line per file.

    Args:
        rows: the scored rows.
        summary: the run's summary (its ``metrics`` and ``has_input`` choose the columns).

    Returns:
        CSV text; floats with 6 significant digits, NaN / None as an empty cell,
        errors and notes as ``key: text; ...``.
    """
    buf = io.StringIO()
    cols = columns(summary)
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        line = []
        for c in cols:
            v = r.get(c)
            if c in ("errors", "notes"):
                line.append("; ".join(f"{k}: {t}" for k, t in (v or {}).items()))
            elif isinstance(v, float):
                line.append("" if not math.isfinite(v) else f"{v:.6g}")
            else:
                line.append("" if v is None else v)
        w.writerow(line)
    return buf.getvalue()


def _jsonable(x):
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    return x
