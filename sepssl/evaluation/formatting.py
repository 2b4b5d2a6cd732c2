"""The words and numbers the Markdown summary and the HTML report share.

Labels, rounding, the headline and the summary table's cells are computed once here so the
two reports cannot disagree. All of it is plain text; escaping is the writer's job (Markdown
backslashes in `markdown`, Jinja2's autoescape in `html_page`).
"""
from __future__ import annotations

import math

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
#: Lists (unpaired files) shown in Markdown/HTML stop here (summary.json has them all).
MAX_LIST = 200

#: note kind (a key of a row's `notes`) -> what the summary says about it
NOTE_TEXT = {
    "trimmed": "trimmed to the shortest of reference / estimate / input",
    "channels": "channel counts differ: channel 0 scored",
    "estimate resampled": "estimate resampled to the reference's rate",
    "input resampled": "noisy input resampled to the reference's rate",
    "pesq resampled": "resampled for PESQ (rate is neither 8 nor 16 kHz)",
}


def decimals(m: str) -> int:
    """How many decimals `m` is shown with."""
    return METRIC_LABELS.get(m, (m, "", 2))[2]


def fmt(v, decimals: int, sign: bool = False) -> str:
    """`v` rounded to `decimals` ("–" for None / NaN), with a sign when `sign` (but not on a
    value that rounds to zero)."""
    if v is None or not math.isfinite(v):
        return "–"
    text = f"{v:+.{decimals}f}" if sign else f"{v:.{decimals}f}"
    if not text.strip("+-0."):  # "-0.00" / "+0.00": no sign on a rounded zero
        text = text.lstrip("+-")
    return text


def label(m: str) -> str:
    """A metric's display name with its unit, e.g. "SI-SDR (dB)"."""
    name, unit, _ = METRIC_LABELS.get(m, (m, "", 2))
    return f"{name} ({unit})" if unit else name


def short_name(m: str) -> str:
    """A metric's display name without unit, e.g. "SI-SDR"."""
    return METRIC_LABELS.get(m, (m,))[0]


def plural(n: int, word: str = "file") -> str:
    """`n` and `word`, plural unless n is 1: "1 file", "2 files"."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def _cell(st: dict | None, places: int, sign: bool = False, interval: bool = False
          ) -> tuple[str, str]:
    """('mean ± std', 'median') text for one stats dict; with `interval`, the mean's 95%
    interval follows: 'mean ± std [low, high]'."""
    if not st or not st.get("count"):
        return "–", "–"
    text = f"{fmt(st['mean'], places, sign)} ± {fmt(st['std'], places)}"
    lo, hi = st.get("ci95") or (math.nan, math.nan)
    if interval and math.isfinite(lo):
        text += f" [{fmt(lo, places, sign)}, {fmt(hi, places, sign)}]"
    return text, fmt(st["median"], places, sign)


def verdict(st: dict | None) -> str:
    """"better" when the mean improvement's 95% interval lies above 0, "worse" below, ""
    when it crosses 0 (or there is none): only a clear change is coloured."""
    lo, hi = (st or {}).get("ci95") or (math.nan, math.nan)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return "better" if lo > 0 else "worse" if hi < 0 else ""


def headline(summary: dict) -> str:
    """One sentence of counts: "8 files paired, 7 scored, 1 not scored, 2 unpaired."."""
    f = summary["files"]
    parts = [f"{plural(f['paired'])} paired", f"{f['scored']} scored"]
    if f["partial"]:
        parts.append(f"{f['partial']} with a failed metric")
    if f["failed"]:
        parts.append(f"{f['failed']} not scored")
    if f["unpaired"]:
        parts.append(f"{f['unpaired']} unpaired")
    if f.get("missing_input"):
        parts.append(f"{f['missing_input']} without a noisy input")
    return ", ".join(parts) + "."


def mode_text(summary: dict) -> str:
    """Which PESQ mode scored how many files ("" without PESQ), and a warning when mixed."""
    names = {"wb": "wide-band (16 kHz)", "nb": "narrow-band (8 kHz)"}
    modes = summary.get("pesq_modes") or {}
    if not modes:
        return ""
    text = "PESQ " + ", ".join(f"{names.get(k, k)} on {plural(n)}" for k, n in modes.items()) + "."
    if len(modes) > 1:
        text += " Wide- and narrow-band PESQ are different scales: do not average them."
    return text


def column_heads(has_input: bool) -> list[str]:
    """The summary table's value columns."""
    return ["Input (noisy)", "Enhanced", "Improvement"] if has_input else ["Enhanced"]


def summary_rows(summary: dict) -> list[tuple[str, list[tuple[str, str]], str, str]]:
    """The summary table, one entry per metric (and the input SNR).

    Returns:
        ``[(label, [(mean ± std, median) per column of `column_heads`], "scored/paired",
        verdict)]``: the improvement column carries the mean's 95% interval, and `verdict`
        ("better" / "worse" / "") says whether that interval excludes 0.
    """
    has_input = summary["has_input"]
    n = summary["files"]["paired"]
    out = []
    for m in summary["metrics"]:
        s = summary["scores"][m]
        d = decimals(m)
        cols = []
        if has_input:
            cols.append(_cell(s.get("input"), d))
        cols.append(_cell(s.get("enhanced"), d))
        if has_input:
            cols.append(_cell(s.get("improvement"), d, sign=True, interval=True))
        out.append((label(m), cols, f"{s['enhanced']['count']}/{n}",
                    verdict(s.get("improvement")) if has_input else ""))
    if has_input and "input_snr" in summary["scores"]:
        s = summary["scores"]["input_snr"]["input"]
        out.append((label("input_snr"), [_cell(s, 1), ("", ""), ("", "")], f"{s['count']}/{n}",
                    ""))
    return out
