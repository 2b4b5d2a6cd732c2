"""Evaluation reports: scores.csv, summary.json, summary.md and a self-contained report.html.

Written by hand because no library renders *this* report; the pieces are the standard library
(csv, json, html.escape) and matplotlib (Agg, through `matplotlib.figure.Figure`, so no pyplot
global state and no display is touched). The HTML has no external resources: CSS inline, plots
as base64 PNG, and a Content-Security-Policy that forbids scripts, so the file can be mailed
around and opened offline. Every file name and message shown is escaped (`html.escape` in HTML,
backslash escapes in Markdown): file names come from users and may contain markup.
scores.csv holds the raw values (names unaltered, NaN as an empty cell) for scripts.
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Sequence

#: metric -> (label, unit, decimals)
METRIC_LABELS = {
    "pesq": ("PESQ", "", 2),
    "stoi": ("STOI", "", 3),
    "estoi": ("ESTOI", "", 3),
    "si_sdr": ("SI-SDR", "dB", 2),
    "dnsmos_ovrl": ("DNSMOS OVRL", "", 2),
    "dnsmos_sig": ("DNSMOS SIG", "", 2),
    "dnsmos_bak": ("DNSMOS BAK", "", 2),
    "input_snr": ("Input SNR", "dB", 1),
}
#: Metrics plotted (improvement histograms and improvement-vs-SNR scatters), when scored.
PLOT_METRICS = ("pesq", "stoi", "estoi", "si_sdr")
#: The per-file HTML table stops here (scores.csv has every row).
MAX_HTML_ROWS = 5000
#: Lists (unpaired files) shown in Markdown/HTML stop here (summary.json has them all).
MAX_LIST = 200


def write_report(report_dir, rows: list[dict], summary: dict) -> dict[str, Path]:
    """Write the four report files into `report_dir` (created); returns {kind: path}."""
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "csv": out / "scores.csv",
        "json": out / "summary.json",
        "markdown": out / "summary.md",
        "html": out / "report.html",
    }
    _atomic_text(files["csv"], scores_csv(rows, summary))
    _atomic_text(files["json"], json.dumps(_jsonable(summary), indent=2, allow_nan=False) + "\n")
    _atomic_text(files["markdown"], summary_markdown(summary))
    _atomic_text(files["html"], render_html(rows, summary))
    return files


# --------------------------------------------------------------------------- CSV / JSON

def _columns(summary: dict) -> list[str]:
    metrics = summary["metrics"]
    cols = ["file", "status", "sample_rate", "duration_s", "channels", "pesq_mode", *metrics]
    if summary["has_input"]:
        cols += [f"{m}_input" for m in metrics] + [f"{m}_delta" for m in metrics] + ["input_snr"]
    return cols + ["errors", "notes"]


def scores_csv(rows: list[dict], summary: dict) -> str:
    """One line per file; NaN is an empty cell, errors/notes are `key: text; ...`."""
    buf = io.StringIO()
    cols = _columns(summary)
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


# --------------------------------------------------------------------------- shared text

def _fmt(v, decimals: int, sign: bool = False) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    text = f"{v:+.{decimals}f}" if sign else f"{v:.{decimals}f}"
    if not text.strip("+-0."):  # "-0.00" / "+0.00": no sign on a rounded zero
        text = text.lstrip("+-")
    return text


def _label(m: str) -> str:
    name, unit, _ = METRIC_LABELS.get(m, (m, "", 2))
    return f"{name} ({unit})" if unit else name


def _cell(st: dict | None, decimals: int, sign: bool = False) -> tuple[str, str]:
    """('mean ± std', 'median') text for one stats dict."""
    if not st or not st.get("count"):
        return "–", "–"
    return (f"{_fmt(st['mean'], decimals, sign)} ± {_fmt(st['std'], decimals)}",
            _fmt(st["median"], decimals, sign))


def _headline(summary: dict) -> str:
    f = summary["files"]
    parts = [f"{f['paired']} file{'s' if f['paired'] != 1 else ''} paired",
             f"{f['scored']} scored"]
    if f["partial"]:
        parts.append(f"{f['partial']} with a failed metric")
    if f["failed"]:
        parts.append(f"{f['failed']} not scored")
    if f["unpaired"]:
        parts.append(f"{f['unpaired']} unpaired")
    if f.get("missing_input"):
        parts.append(f"{f['missing_input']} without a noisy input")
    return ", ".join(parts) + "."


def _mode_text(summary: dict) -> str:
    names = {"wb": "wide-band (16 kHz)", "nb": "narrow-band (8 kHz)"}
    modes = summary.get("pesq_modes") or {}
    if not modes:
        return ""
    text = "PESQ " + ", ".join(f"{names.get(k, k)} on {n} file{'s' if n != 1 else ''}"
                               for k, n in modes.items()) + "."
    if len(modes) > 1:
        text += " Wide- and narrow-band PESQ are different scales: do not average them."
    return text


_NOTE_TEXT = {
    "trimmed": "trimmed to the shortest of reference / estimate / input",
    "channels": "channel counts differ: channel 0 scored",
    "estimate resampled": "estimate resampled to the reference's rate",
    "input resampled": "noisy input resampled to the reference's rate",
    "pesq resampled": "resampled for PESQ (rate is neither 8 nor 16 kHz)",
}


def _summary_rows(summary: dict) -> list[tuple[str, list[tuple[str, str]], str]]:
    """[(label, [(mean±std, median) per column], scored)] for the summary tables."""
    has_input = summary["has_input"]
    n = summary["files"]["paired"]
    out = []
    for m in summary["metrics"]:
        s = summary["scores"][m]
        d = METRIC_LABELS.get(m, (m, "", 2))[2]
        cols = []
        if has_input:
            cols.append(_cell(s.get("input"), d))
        cols.append(_cell(s.get("enhanced"), d))
        if has_input:
            cols.append(_cell(s.get("improvement"), d, sign=True))
        out.append((_label(m), cols, f"{s['enhanced']['count']}/{n}"))
    if has_input and "input_snr" in summary["scores"]:
        s = summary["scores"]["input_snr"]["input"]
        out.append((_label("input_snr"), [_cell(s, 1), ("", ""), ("", "")], f"{s['count']}/{n}"))
    return out


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = set("\\`*_[]<>|&~")


def md_escape(text) -> str:
    """User text (names, paths, messages) for Markdown: the characters that make markup or
    break a table row backslash-escaped, line breaks flattened. Callers never put such text
    at the start of a line, so list/heading markers need no escaping."""
    s = " ".join(str(text).splitlines())
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


def summary_markdown(summary: dict) -> str:
    """The summary as Markdown: a table (rows = metrics) and the failures / unpaired lists."""
    has_input = summary["has_input"]
    lines = ["# sepssl evaluation", ""]
    lines.append(f"- Reference: {md_escape(summary.get('reference', ''))}")
    lines.append(f"- Enhanced: {md_escape(summary.get('estimate', ''))}")
    if has_input:
        lines.append(f"- Noisy input: {md_escape(summary.get('input', ''))}")
    lines += ["", _headline(summary) + " " + _mode_text(summary), ""]

    heads = (["Input (noisy)", "Enhanced", "Improvement"] if has_input else ["Enhanced"])
    lines.append("| Metric | " + " | ".join(f"{h} mean ± std" for h in heads)
                 + " | Median " + (" / ".join(["in", "out", "Δ"]) if has_input else "")
                 + " | Scored |")
    lines.append("|---|" + "---:|" * (len(heads) + 2))
    for label, cols, scored in _summary_rows(summary):
        medians = " / ".join(c[1] for c in cols if c[1])
        lines.append(f"| {label} | " + " | ".join(c[0] for c in cols)
                     + f" | {medians} | {scored} |")
    lines.append("")
    if has_input:
        lines += ["Improvement = enhanced − input, per file, then averaged. "
                  "Mean ± sample standard deviation over the files where the metric could be "
                  "computed.", ""]
    else:
        lines += ["Mean ± sample standard deviation over the files where the metric could be "
                  "computed. No noisy input given, so no improvement.", ""]

    if summary["failure_text"]:
        lines += ["## Failures", ""]
        lines += [f"- {md_escape(t)}" for t in summary["failure_text"]]
        lines += ["", "Per-file reasons are in scores.csv (column `errors`).", ""]
    unpaired = summary.get("unpaired") or []
    if unpaired:
        lines += ["## Unpaired files", ""]
        for u in unpaired[:MAX_LIST]:
            lines.append(f"- no {u['missing']}: {md_escape(u['file'])}")
        if len(unpaired) > MAX_LIST:
            lines.append(f"- … and {len(unpaired) - MAX_LIST} more (see summary.json)")
        lines.append("")
    notes = summary.get("notes") or {}
    if notes:
        lines += ["## Notes", ""]
        for k, n in notes.items():
            lines.append(f"- {n} file{'s' if n != 1 else ''}: {md_escape(_NOTE_TEXT.get(k, k))}")
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- plots

def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _finite(rows, key):
    return [r[key] for r in rows if isinstance(r.get(key), float) and math.isfinite(r[key])]


#: metric -> smallest histogram bin worth showing (finer differences are noise)
_BIN_STEP = {"pesq": 0.05, "stoi": 0.01, "estoi": 0.01, "si_sdr": 0.5}


def _hist_bins(v: list[float], step: float) -> list[float]:
    """Bin edges no finer than `step`, at most ~2·sqrt(n) bins, and a visible bar even when
    every value is the same."""
    lo, hi = min(v), max(v)
    limit = max(5, min(40, int(2 * math.sqrt(len(v)))))
    n = max(1, min(limit, math.ceil((hi - lo) / step)))
    width = max((hi - lo) / n, step)
    mid = (lo + hi) / 2
    start = mid - width * n / 2
    return [start + i * width for i in range(n + 1)]


def _style(ax) -> None:
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    for axis in (ax.xaxis, ax.yaxis):
        fmt = ScalarFormatter(useOffset=False)
        fmt.set_scientific(False)
        axis.set_major_formatter(fmt)


def plot_distributions(rows: list[dict], summary: dict) -> str | None:
    """Histograms of the improvement per metric (of the enhanced score without an input)."""
    from matplotlib.figure import Figure

    has_input = summary["has_input"]
    metrics = [m for m in PLOT_METRICS if m in summary["metrics"]]
    key = "{}_delta" if has_input else "{}"
    data = [(m, _finite(rows, key.format(m))) for m in metrics]
    data = [(m, v) for m, v in data if v]
    if not data:
        return None
    fig = Figure(figsize=(3.0 * len(data), 2.6), layout="constrained")
    for i, (m, v) in enumerate(data):
        ax = fig.add_subplot(1, len(data), i + 1)
        ax.hist(v, bins=_hist_bins(v, _BIN_STEP.get(m, 0.01)), color="#4c78a8",
                edgecolor="white")
        _style(ax)
        from matplotlib.ticker import MaxNLocator
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        mean = sum(v) / len(v)
        ax.axvline(mean, color="#e45756", lw=1.5)
        if has_input:
            ax.axvline(0, color="0.3", lw=1, ls="--")
            better = sum(x > 0 for x in v)
            ax.set_title(f"Δ {_label(m)}: mean {mean:+.2f}\nbetter on {better}/{len(v)} files",
                         fontsize=9)
            ax.set_xlabel("enhanced − input (red: mean)", fontsize=8)
        else:
            ax.set_title(f"{_label(m)}: mean {mean:.2f}", fontsize=9)
            ax.set_xlabel("score (red: mean)", fontsize=8)
        ax.set_ylabel("files", fontsize=8)
    return _png(fig)


def plot_vs_snr(rows: list[dict], summary: dict) -> str | None:
    """Improvement per file against the input SNR, one panel per metric."""
    from matplotlib.figure import Figure

    if not summary["has_input"]:
        return None
    metrics = [m for m in PLOT_METRICS if m in summary["metrics"]]
    data = []
    for m in metrics:
        pts = [(r["input_snr"], r[f"{m}_delta"]) for r in rows
               if math.isfinite(r.get("input_snr", math.nan)) and math.isfinite(r[f"{m}_delta"])]
        if pts:
            data.append((m, pts))
    if not data:
        return None
    fig = Figure(figsize=(3.0 * len(data), 2.6), layout="constrained")
    for i, (m, pts) in enumerate(data):
        ax = fig.add_subplot(1, len(data), i + 1)
        xs, ys = zip(*pts)
        ax.scatter(xs, ys, s=12, alpha=0.7, color="#4c78a8", edgecolors="none")
        ax.axhline(0, color="0.3", lw=1, ls="--")
        _style(ax)
        if max(xs) - min(xs) < 1:  # all files at one SNR: a 2 dB window, not 1e-5 dB
            mid = (max(xs) + min(xs)) / 2
            ax.set_xlim(mid - 1, mid + 1)
        ax.set_title(f"Δ {_label(m)} vs input SNR", fontsize=9)
        ax.set_xlabel("input SNR (dB)", fontsize=8)
        ax.set_ylabel("enhanced − input", fontsize=8)
    return _png(fig)


# --------------------------------------------------------------------------- HTML

def _e(text) -> str:
    return html.escape(str(text), quote=True)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
 max-width:1200px;padding:0 16px;color:#222;line-height:1.45}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.6em 0 .5em;
 border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555;font-size:.9em}.meta div{overflow-wrap:anywhere}
table{border-collapse:collapse;font-size:.88em;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:4px 8px}th{background:#f3f5f7;text-align:center}
td.n{text-align:right;white-space:nowrap}td.f{overflow-wrap:anywhere;max-width:340px}
tr:nth-child(even) td{background:#fafbfc}
.summary td:first-child{font-weight:600}
.pos{color:#1a7f37}.neg{color:#c62828}.na{color:#999}
.issues{color:#8a5a00;font-size:.85em;max-width:320px;overflow-wrap:anywhere}
.fail td{background:#fff4f4 !important}
ul{margin:.3em 0}li{overflow-wrap:anywhere}
img{max-width:100%;height:auto;display:block;margin:.4em 0}
.small{color:#666;font-size:.85em}
.scroll{overflow-x:auto}
"""


def render_html(rows: list[dict], summary: dict) -> str:
    """The whole report as one HTML string with no external resources."""
    has_input = summary["has_input"]
    metrics = summary["metrics"]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
           'img-src data:; style-src \'unsafe-inline\'">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>sepssl evaluation</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>sepssl evaluation</h1>", '<div class="meta">',
           f"<div>Reference: {_e(summary.get('reference', ''))}</div>",
           f"<div>Enhanced: {_e(summary.get('estimate', ''))}</div>"]
    if has_input:
        out.append(f"<div>Noisy input: {_e(summary.get('input', ''))}</div>")
    secs = summary.get("seconds")
    timing = f" Scored in {secs:.1f} s with {summary.get('jobs', 1)} job(s)." if secs else ""
    out.append(f"<div><b>{_e(_headline(summary))}</b> {_e(_mode_text(summary))}{_e(timing)}</div>")
    out.append("</div>")

    # summary table
    out.append("<h2>Summary</h2>")
    heads = ["Input (noisy)", "Enhanced", "Improvement"] if has_input else ["Enhanced"]
    out.append('<table class="summary"><tr><th rowspan="2">Metric</th>'
               f'<th colspan="{len(heads)}">mean ± std</th>'
               f'<th colspan="{len(heads)}">median</th><th rowspan="2">scored</th></tr><tr>'
               + "".join(f"<th>{_e(h)}</th>" for h in heads) * 2 + "</tr>")
    for label, cols, scored in _summary_rows(summary):
        cells = "".join(f'<td class="n{_sign_class(c[0], i, has_input)}">{_e(c[0])}</td>'
                        for i, c in enumerate(cols))
        cells += "".join(f'<td class="n{_sign_class(c[1], i, has_input)}">{_e(c[1])}</td>'
                         for i, c in enumerate(cols))
        out.append(f"<tr><td>{_e(label)}</td>{cells}<td class=\"n\">{_e(scored)}</td></tr>")
    out.append("</table>")
    out.append('<p class="small">' + (
        "Improvement = enhanced − input per file, then averaged; green is better. "
        if has_input else "No noisy input was given, so there is no improvement column. ")
        + "Statistics are over the files where the metric could be computed (sample standard "
        "deviation).</p>")

    # failures, unpaired, notes
    if summary["failure_text"]:
        out.append("<h2>Failures</h2><ul>")
        out += [f"<li>{_e(t)}</li>" for t in summary["failure_text"]]
        out.append("</ul><p class=\"small\">Failed metrics show as – in the per-file table; "
                   "its Issues column says why.</p>")
    unpaired = summary.get("unpaired") or []
    if unpaired:
        out.append(f"<h2>Unpaired files ({len(unpaired)})</h2><ul>")
        out += [f"<li>{_e(u['file'])} — no {_e(u['missing'])}</li>" for u in unpaired[:MAX_LIST]]
        if len(unpaired) > MAX_LIST:
            out.append(f"<li>… and {len(unpaired) - MAX_LIST} more (see summary.json)</li>")
        out.append("</ul>")
    notes = summary.get("notes") or {}
    if notes:
        out.append("<h2>Notes</h2><ul>")
        out += [f"<li>{n} file{'s' if n != 1 else ''}: {_e(_NOTE_TEXT.get(k, k))}</li>"
                for k, n in notes.items()]
        out.append("</ul>")

    # plots
    dist = plot_distributions(rows, summary)
    if dist:
        title = "Improvement per file" if has_input else "Scores per file"
        out.append(f"<h2>{title}</h2>")
        out.append(f'<img alt="{_e(title)}" src="data:image/png;base64,{dist}">')
    scatter = plot_vs_snr(rows, summary)
    if scatter:
        out.append("<h2>Improvement vs input SNR</h2>")
        out.append(f'<img alt="improvement vs input SNR" src="data:image/png;base64,{scatter}">')

    # per-file table
    out.append(f"<h2>Per file ({len(rows)})</h2>")
    if len(rows) > MAX_HTML_ROWS:
        out.append(f'<p class="small">First {MAX_HTML_ROWS} files shown; scores.csv has all.</p>')
    out.append('<div class="scroll"><table class="files">')
    if has_input:
        out.append('<tr><th rowspan="2">File</th><th rowspan="2">Input SNR<br>(dB)</th>'
                   + "".join(f'<th colspan="3">{_e(_label(m))}</th>' for m in metrics)
                   + '<th rowspan="2">Issues</th></tr><tr>'
                   + "<th>in</th><th>out</th><th>Δ</th>" * len(metrics) + "</tr>")
    else:
        out.append("<tr><th>File</th>" + "".join(f"<th>{_e(_label(m))}</th>" for m in metrics)
                   + "<th>Issues</th></tr>")
    for r in rows[:MAX_HTML_ROWS]:
        out.append(_file_row(r, metrics, has_input))
    out.append("</table></div>")
    out.append('<p class="small">Written by sepssl. All values per file are also in scores.csv.</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _sign_class(text: str, col: int, has_input: bool) -> str:
    if not has_input or col != 2 or not text or text[0] not in "+-":
        return ""
    return " pos" if text.startswith("+") and not text.startswith("+0.00 ") else (
        " neg" if text.startswith("-") else "")


def _value_td(r: dict, key: str, decimals: int, sign: bool = False) -> str:
    v = r.get(key)
    if isinstance(v, float) and math.isfinite(v):
        cls = ""
        if sign:
            cls = " pos" if v > 0 else " neg" if v < 0 else ""
        return f'<td class="n{cls}">{_e(_fmt(v, decimals, sign))}</td>'
    reason = (r.get("errors") or {}).get(key) or (r.get("errors") or {}).get("file", "")
    if sign and not reason:
        reason = "needs both the input and the enhanced score"
    return f'<td class="n na" title="{_e(reason)}">–</td>'


def _file_row(r: dict, metrics: Sequence[str], has_input: bool) -> str:
    cls = ' class="fail"' if r["status"] == "failed" else ""
    cells = [f'<td class="f">{_e(r["file"])}</td>']
    if has_input:
        cells.append(_value_td(r, "input_snr", 1))
    for m in metrics:
        d = METRIC_LABELS.get(m, (m, "", 2))[2]
        if has_input:
            cells.append(_value_td(r, f"{m}_input", d))
        cells.append(_value_td(r, m, d))
        if has_input:
            cells.append(_value_td(r, f"{m}_delta", d, sign=True))
    cells.append(f'<td class="issues">{"<br>".join(_e(i) for i in _issues(r, metrics))}</td>')
    return f"<tr{cls}>" + "".join(cells) + "</tr>"


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
    out = []
    for reason, (enhanced, inp) in groups.items():
        def names(ms):
            return "all metrics" if set(ms) == set(metrics) else ", ".join(
                METRIC_LABELS.get(m, (m,))[0] for m in metrics if m in ms)
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


# --------------------------------------------------------------------------- files

def _atomic_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a report is never half-written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is for sharing
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
