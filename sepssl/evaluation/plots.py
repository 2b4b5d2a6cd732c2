"""The report's figures, as base64 PNG ready to embed in a self-contained HTML page.

matplotlib draws them through `matplotlib.figure.Figure` (the Agg canvas), not pyplot: no
global figure state, no display touched, safe in a worker or a headless server. What is
decided here is only what to plot: the improvement per file (or the score, without an
input) as histograms, and the improvement against the input's SNR as scatters.
"""
from __future__ import annotations

import base64
import io
import math

from .formatting import label

#: Metrics plotted (improvement histograms and improvement-vs-SNR scatters), when scored.
PLOT_METRICS = ("pesq", "stoi", "estoi", "si_sdr")
#: metric -> smallest histogram bin worth showing (finer differences are noise)
_BIN_STEP = {"pesq": 0.05, "stoi": 0.01, "estoi": 0.01, "si_sdr": 0.5}


def plot_distributions(rows: list[dict], summary: dict) -> list[tuple[str, str]]:
    """Histograms of the improvement per file, one image per metric (so that a narrow screen
    stacks them at a readable size).

    Args:
        rows: the scored rows.
        summary: the run's summary (its ``metrics`` and ``has_input``).

    Returns:
        ``[(title, base64 PNG)]``, empty when no metric has a finite value. Without a noisy
        input they show the enhanced score instead of the improvement.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    has_input = summary["has_input"]
    key = "{}_delta" if has_input else "{}"
    out = []
    for m in (m for m in PLOT_METRICS if m in summary["metrics"]):
        v = _finite(rows, key.format(m))
        if not v:
            continue
        fig = Figure(figsize=(3.2, 2.6), layout="constrained")
        ax = fig.add_subplot(1, 1, 1)
        ax.hist(v, bins=_hist_bins(v, _BIN_STEP.get(m, 0.01)), color="#4c78a8",
                edgecolor="white")
        _style(ax)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        mean = sum(v) / len(v)
        ax.axvline(mean, color="#e45756", lw=1.5)
        if has_input:
            ax.axvline(0, color="0.3", lw=1, ls="--")
            better = sum(x > 0 for x in v)
            title = f"Δ {label(m)}: mean {mean:+.2f}, better on {better}/{len(v)} files"
            ax.set_title(f"Δ {label(m)}: mean {mean:+.2f}\nbetter on {better}/{len(v)} files",
                         fontsize=9)
            ax.set_xlabel("enhanced − input (red: mean)", fontsize=8)
        else:
            title = f"{label(m)}: mean {mean:.2f}"
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("score (red: mean)", fontsize=8)
        ax.set_ylabel("files", fontsize=8)
        out.append((title, _png(fig)))
    return out


def plot_vs_snr(rows: list[dict], summary: dict) -> list[tuple[str, str]]:
    """Improvement per file against the input's SNR, one image per metric.

    Args:
        rows: the scored rows.
        summary: the run's summary (its ``metrics`` and ``has_input``).

    Returns:
        ``[(title, base64 PNG)]``, empty without a noisy input or without finite points.
    """
    from matplotlib.figure import Figure

    if not summary["has_input"]:
        return []
    out = []
    for m in (m for m in PLOT_METRICS if m in summary["metrics"]):
        pts = [(r["input_snr"], r[f"{m}_delta"]) for r in rows
               if math.isfinite(r.get("input_snr", math.nan)) and math.isfinite(r[f"{m}_delta"])]
        if not pts:
            continue
        fig = Figure(figsize=(3.2, 2.6), layout="constrained")
        ax = fig.add_subplot(1, 1, 1)
        xs, ys = zip(*pts)
        ax.scatter(xs, ys, s=12, alpha=0.7, color="#4c78a8", edgecolors="none")
        ax.axhline(0, color="0.3", lw=1, ls="--")
        _style(ax)
        if max(xs) - min(xs) < 1:  # all files at one SNR: a 2 dB window, not 1e-5 dB
            mid = (max(xs) + min(xs)) / 2
            ax.set_xlim(mid - 1, mid + 1)
        title = f"Δ {label(m)} vs input SNR"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("input SNR (dB)", fontsize=8)
        ax.set_ylabel("enhanced − input", fontsize=8)
        out.append((title, _png(fig)))
    return out


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _finite(rows, key):
    return [r[key] for r in rows if isinstance(r.get(key), float) and math.isfinite(r[key])]


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
