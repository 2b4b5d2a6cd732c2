"""report.html: the evaluation as one self-contained page, rendered from a Jinja2 template.

The page (templates/report.html.j2) has no external resources: CSS inline, plots as base64
PNG, and a Content-Security-Policy that forbids scripts, so the file can be mailed around and
opened offline. File names and messages come from users and may contain markup, so the
template is rendered with autoescape on: nothing here builds HTML, it only prepares the values
(texts, CSS classes) the template shows.
"""
from __future__ import annotations

import functools
import math
from typing import Sequence

from .formatting import (
    MAX_LIST, NOTE_TEXT, column_heads, decimals, fmt, headline, label, mode_text, plural,
    short_name, summary_rows,
)
from .listening import examples, rank_metric
from .plots import plot_distributions, plot_vs_snr

#: The per-file HTML table stops here (scores.csv has every row).
MAX_HTML_ROWS = 5000
TEMPLATE = "report.html.j2"


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader(__package__, "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_html(rows: list[dict], summary: dict, paths: dict[str, dict] | None = None) -> str:
    """The whole report as one HTML page with no external resources.

    Args:
        rows: the scored rows (the first `MAX_HTML_ROWS` are shown).
        summary: what `summary.summarize` returns, with the folders, timing and provenance
            `evaluate` adds.
        paths: file -> its reference / estimate / input paths, for the audio players of the
            worst, median and best file (None: no players).

    Returns:
        The HTML text.
    """
    has_input = summary["has_input"]
    metrics = summary["metrics"]
    secs = summary.get("seconds")
    unpaired = summary.get("unpaired") or []
    table = []
    for lab, cols, scored, verdict in summary_rows(summary):
        win = {"better": " pos", "worse": " neg"}.get(verdict, "")
        cells = [(c[k], win if has_input and i == 2 and k == 0 else "")
                 for k in (0, 1) for i, c in enumerate(cols)]
        table.append({"label": lab, "cells": cells, "scored": scored})
    page = {
        "reference": summary.get("reference", ""),
        "estimate": summary.get("estimate", ""),
        "input": summary.get("input", ""),
        "has_input": has_input,
        "headline": headline(summary),
        "mode_text": mode_text(summary),
        "timing": f" Scored in {secs:.1f} s with {summary.get('jobs', 1)} job(s)." if secs else "",
        "heads": column_heads(has_input),
        "summary_rows": table,
        "failure_text": summary["failure_text"],
        "unpaired": unpaired[:MAX_LIST],
        "unpaired_total": len(unpaired),
        "unpaired_more": max(0, len(unpaired) - MAX_LIST),
        "notes": [f"{plural(n)}: {NOTE_TEXT.get(k, k)}"
                  for k, n in (summary.get("notes") or {}).items()],
        "distributions": plot_distributions(rows, summary),
        "distributions_title": "Improvement per file" if has_input else "Scores per file",
        "vs_snr": plot_vs_snr(rows, summary),
        "metric_labels": [label(m) for m in metrics],
        "n_rows": len(rows),
        "max_rows": MAX_HTML_ROWS,
        "file_rows": [_file_row(r, metrics, has_input) for r in rows[:MAX_HTML_ROWS]],
        "provenance": _provenance(summary.get("provenance") or {}),
        "examples": examples(rows, summary, paths) if paths else [],
        "rank_label": label(rank_metric(summary) or "pesq"),
    }
    return _environment().get_template(TEMPLATE).render(page)


def _provenance(p: dict) -> list[tuple[str, str]]:
    """(what, text) lines: this evaluation, and the enhance run that made the estimates."""
    lines = [("Evaluated", f"{p.get('date', '?')} by sepssl {p.get('sepssl', '?')}: "
                           f"{p.get('command', '?')}")]
    e = p.get("enhanced_by")
    if e:
        limit = e.get("atten_lim_db")
        trained = ", ".join(x for x in (
            f"trained with {e['trained_with']}" if e.get("trained_with") else "",
            f"{e['steps']} steps" if e.get("steps") else "") if x)
        lines += [("Enhanced", f"{e.get('date', '?')} by sepssl {e.get('sepssl', '?')} on "
                               f"{e.get('device', '?')}: {e.get('command', '?')}"),
                  ("Model", f"{e.get('model_file', '?')} (sha256 {str(e.get('model_sha256'))[:12]}"
                            f"{'; ' + trained if trained else ''})"),
                  ("Attenuation limit", "none" if limit is None else f"{limit} dB")]
    else:
        lines.append(("Enhanced", "no sepssl_enhance.json beside the estimates (not made by "
                                  "`sepssl enhance`, or by an older version)"))
    return lines


def _value_cell(r: dict, key: str, places: int, sign: bool = False) -> dict:
    """{text, cls, title} of one value of the per-file table; a missing value says why."""
    v = r.get(key)
    if isinstance(v, float) and math.isfinite(v):
        cls = ""
        if sign:
            cls = " pos" if v > 0 else " neg" if v < 0 else ""
        return {"text": fmt(v, places, sign), "cls": cls, "title": None}
    reason = (r.get("errors") or {}).get(key) or (r.get("errors") or {}).get("file", "")
    if sign and not reason:
        reason = "needs both the input and the enhanced score"
    return {"text": "–", "cls": " na", "title": reason}


def _file_row(r: dict, metrics: Sequence[str], has_input: bool) -> dict:
    cells = []
    if has_input:
        cells.append(_value_cell(r, "input_snr", 1))
    for m in metrics:
        d = decimals(m)
        if has_input:
            cells.append(_value_cell(r, f"{m}_input", d))
        cells.append(_value_cell(r, m, d))
        if has_input:
            cells.append(_value_cell(r, f"{m}_delta", d, sign=True))
    return {"file": r["file"], "failed": r["status"] == "failed", "cells": cells,
            "issues": _issues(r, metrics)}


def _issues(r: dict, metrics: Sequence[str]) -> list[str]:
    """A row's errors grouped by reason ("PESQ, STOI (and input): too short"), then its notes."""
    errors = dict(r.get("errors") or {})
    notes = r.get("notes") or {}
    if any(k.startswith("unreadable") for k in notes):
        errors.pop("file", None)  # the note says which file and why
        errors.pop("input_file", None)
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for col, reason in errors.items():
        enhanced, inp = groups.setdefault(reason, ([], []))
        if col.endswith("_input"):
            inp.append(col[:-6])
        elif col not in ("file", "input_file"):
            enhanced.append(col)

    def names(ms):
        return "all metrics" if set(ms) == set(metrics) else ", ".join(
            short_name(m) for m in metrics if m in ms)

    out = []
    for reason, (enhanced, inp) in groups.items():
        if not enhanced and not inp:
            out.append(reason)
        elif set(enhanced) == set(inp):
            out.append(f"{names(enhanced)} (and input): {reason}")
        else:
            parts = [names(enhanced)] if enhanced else []
            if inp:
                parts.append(f"input {names(inp)}")
            out.append(f"{'; '.join(parts)}: {reason}")
    out += [f"{k}: {t}" for k, t in notes.items()]
    return out
