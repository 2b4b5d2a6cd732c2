"""Side-by-side tables of training runs: enhancement runs from their `test_report/summary.json`
(`sepssl evaluate`), separation runs from `separation.json` (recipes/separation/score.py) and
their validation curves (`logs/version_*/metrics.csv`).

    python experiments/compare_runs.py --enhance runs/noisy_target runs/supervised runs/mixit \\
        --oracle runs/supervised --separate runs/separation_scratch ... --out metrics/

Writes `tasks_table.md` (or --enhance-name) and/or `separation.md` into --out. Every number comes from those files.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

METRICS = [("pesq", "PESQ", 2), ("stoi", "STOI", 3), ("estoi", "ESTOI", 3), ("si_sdr", "SI-SDR (dB)", 2)]


def _card(run: Path) -> dict:
    card = run / "model_card.json"
    return json.loads(card.read_text()) if card.is_file() else {}


def _steps(card: dict) -> str:
    """This run's steps, preceded by those of the model it started from (`trainer.init_from`,
    when that model is a sepssl run with a card): "2708 + 2708" for a second stage."""
    steps = str(card.get("steps", "?"))
    init = (card.get("config") or {}).get("trainer", {}).get("init_from")
    if init:
        before = _card(Path(init).parent).get("steps")
        if before is not None:
            return f"{before} + {steps}"
    return steps


def enhancement_table(runs: list[Path], oracle: Path | None) -> str:
    summaries = {r: json.loads((r / "test_report" / "summary.json").read_text()) for r in runs}
    oracle_gain = (summaries[oracle]["scores"]["si_sdr"]["improvement"]["mean"]
                   if oracle in summaries else None)
    first = next(iter(summaries.values()))
    fronts = {r: _front_end(_card(r)) for r in runs}
    extra = ["encoder"] if any(fronts.values()) else []
    head = ["run", "task", *extra, "steps"] + [m[1] for m in METRICS] + ["SI-SDR gain vs oracle"]
    rows = [["unprocessed input", "—", *["—"] * len(extra), "—"]
            + [f"{first['scores'][k]['input']['mean']:.{d}f}" for k, _, d in METRICS] + ["—"]]
    for run, s in summaries.items():
        card = _card(run)
        cells = []
        for key, _, d in METRICS:
            sc = s["scores"][key]
            cells.append(f"{sc['enhanced']['mean']:.{d}f} ({sc['improvement']['mean']:+.{d}f})")
        gain = s["scores"]["si_sdr"]["improvement"]["mean"]
        share = f"{100 * gain / oracle_gain:.0f}%" if oracle_gain else "—"
        enc = [fronts[run] or "none"] if extra else []
        rows.append([f"`{run}`", card.get("trained_with", "?"), *enc, _steps(card)]
                    + cells + [share])
    return _markdown(head, rows)


def _rows(run: Path) -> list[dict]:
    """The scored rows of a run's `test_report/scores.csv`, or of a report folder's own."""
    path = run / "scores.csv" if (run / "scores.csv").is_file() else run / "test_report" / "scores.csv"
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["status"] == "ok"]


def _per_file(run: Path, suffix: str = "") -> dict[str, dict[str, float]]:
    """Metric → {file: score} of a run's scored files (`sepssl evaluate`'s scores.csv);
    `suffix="_delta"`: the improvement over the input instead."""
    rows = _rows(run)
    return {key: {r["file"]: float(r[key + suffix]) for r in rows
                  if r.get(key + suffix) not in ("", None, "nan")} for key, _, _ in METRICS}


def _interval(diff: list[float], d: int) -> str:
    """Mean and 95% interval (±1.96 standard errors) of per-file values."""
    n = len(diff)
    mean = sum(diff) / n
    sd = (sum((x - mean) ** 2 for x in diff) / (n - 1)) ** 0.5 if n > 1 else float("nan")
    half = 1.96 * sd / n ** 0.5
    return f"{mean:+.{d + 1}f} [{mean - half:+.{d + 1}f}, {mean + half:+.{d + 1}f}]"


def gain_table(runs: list[Path]) -> str:
    """Each run's improvement over the unprocessed input: mean, 95% interval, files improved."""
    head = ["run", *[f"{m[1]} gain (95% interval), files up" for m in METRICS]]
    rows = []
    for run in runs:
        gains = _per_file(run, "_delta")
        rows.append([f"`{run}`"] + [f"{_interval(list(gains[k].values()), d)}, "
                                    f"{sum(v > 0 for v in gains[k].values())} of {len(gains[k])}"
                                    for k, _, d in METRICS])
    return _markdown(head, rows)


def paired_table(runs: list[Path], baseline: Path) -> str:
    """Per-file differences against a baseline run on the same test files: mean and a 95%
    interval (±1.96 standard errors of the paired differences), and the share of files that
    improved. A gain is only claimed where the interval excludes zero."""
    head = ["run", "vs", *[f"Δ{m[1]} (95% interval)" for m in METRICS], "files better (SI-SDR)"]
    rows = []
    base = _per_file(baseline)
    for run in runs:
        if run == baseline:
            continue
        cells, better = [], ""
        scores = _per_file(run)
        for key, _, d in METRICS:
            a, b = scores[key], base[key]
            common = sorted(set(a) & set(b))
            diff = [a[f] - b[f] for f in common]
            cells.append(_interval(diff, d))
            if key == "si_sdr":
                better = f"{100 * sum(x > 0 for x in diff) / len(diff):.0f}% of {len(diff)}"
        rows.append([f"`{run}`", f"`{baseline}`", *cells, better])
    return _markdown(head, rows)


def _front_end(card: dict) -> str:
    """"cpc, frozen" for a run whose model has an SSL encoder (from its config), else ""."""
    enc = card.get("config", {}).get("model", {}).get("encoder")
    if not enc:
        return ""
    name = enc.get("name") or Path(str(enc.get("checkpoint", "?"))).parent.name
    return f"{name}, {'frozen' if enc.get('frozen', True) else 'fine-tuned'}"


def _val_curve(run: Path) -> list[tuple[int, float]]:
    curve = []
    for log in sorted((run / "logs").glob("version_*/metrics.csv")):
        with open(log, newline="") as f:
            for row in csv.DictReader(f):
                if row.get("val/si_sdri"):
                    curve.append((int(row["step"]) + 1, float(row["val/si_sdri"])))
    return sorted(curve)


def separation_table(runs: list[Path], thresholds: list[float]) -> str:
    head = ["run", "task", "initialised from", "steps", "test SI-SDRi (dB)", "median",
            "files improved"] + [f"steps to val SI-SDRi ≥ {t:g} dB" for t in thresholds]
    rows = []
    for run in runs:
        s = json.loads((run / "separation.json").read_text())
        card = _card(run)
        cfg = card.get("config", {})
        curve = _val_curve(run)
        reach = [next((str(step) for step, v in curve if v >= t), "not reached") for t in thresholds]
        init = cfg.get("trainer", {}).get("init_from") or "scratch"
        task = cfg.get("task", {})
        name = task.get("name", "?") + (f" ({task.get('mode')}, M={task.get('outputs')})"
                                        if task.get("name") == "mixit" else "")
        rows.append([f"`{run}`", name, f"`{init}`" if init != "scratch" else init,
                     str(card.get("steps", "?")), f"{s['si_sdri_mean']:+.2f}",
                     f"{s['si_sdri_median']:+.2f}", f"{100 * s['si_sdri_positive_share']:.0f}%"]
                    + reach)
    curves = ["", "Validation SI-SDRi (dB) by step:", ""]
    for run in runs:
        curves.append(f"- `{run}`: " + ", ".join(f"{st}: {v:+.2f}" for st, v in _val_curve(run)))
    return _markdown(head, rows) + "\n".join(curves) + "\n"


def _markdown(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enhance", nargs="*", type=Path, default=[])
    ap.add_argument("--oracle", type=Path, default=None)
    ap.add_argument("--separate", nargs="*", type=Path, default=[])
    ap.add_argument("--thresholds", nargs="*", type=float, default=[0.5, 1.0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--enhance-name", default="tasks_table.md", help="file name of that table")
    ap.add_argument("--paired", type=Path, default=None,
                    help="also compare every --enhance run with this one, file by file")
    ap.add_argument("--reports", nargs="*", type=Path, default=[],
                    help="`sepssl evaluate` report folders (or runs): each one's gain over the "
                         "input with intervals, and file by file against the first one")
    ap.add_argument("--reports-name", default="reports.md", help="file name of that table")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    made_by = "Made by `python experiments/compare_runs.py " + " ".join(sys.argv[1:]) + "`.\n\n"
    if args.reports:
        table = (gain_table(args.reports) + "\nFile by file against the first (run − baseline):\n\n"
                 + paired_table(args.reports, args.reports[0]))
        (args.out / args.reports_name).write_text(made_by + table)
        print(table)
    if args.enhance:
        table = enhancement_table(args.enhance, args.oracle)
        if args.paired:
            table += ("\nPaired with the same test files (run − baseline):\n\n"
                      + paired_table(args.enhance, args.paired))
        (args.out / args.enhance_name).write_text(made_by + table)
        print(table)
    if args.separate:
        table = separation_table(args.separate, args.thresholds)
        (args.out / "separation.md").write_text(made_by + table)
        print(table)


if __name__ == "__main__":
    main()
