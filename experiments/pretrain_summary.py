"""Pre-training curves of `sepssl pretrain` runs in one table: did the pretext loss go down, and
did the collapse indicators stay healthy?

    python experiments/pretrain_summary.py runs/cpc runs/wav2vec2 runs/byol_a --out metrics/

Reads each run's `logs/version_*/metrics.csv` (per-step training statistics) and
`encoder_card.json`, and writes `pretraining.md` and `pretraining.json` into --out: for every
logged statistic its mean over the first and the last `--window` logged steps, and the minimum
of the collapse indicator `embed_std` over the run (0 would mean every input maps to the same
embedding). Every number comes from those files.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

# benchlib (the command line and machine a results file records) lives with the benchmarks
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "metrics"))
import benchlib  # noqa: E402

# statistics worth a column, in this order, when a run logs them
SHOWN = ["loss", "accuracy", "accuracy_step1", "contrastive", "diversity", "code_perplexity",
         "prob_perplexity", "temperature", "embed_std", "projection_std"]


def curve(run: Path) -> list[dict[str, float]]:
    """Logged training rows (step plus `train/*` values), over resumed versions, by step."""
    rows: dict[int, dict[str, float]] = {}
    for log in sorted((run / "logs").glob("version_*/metrics.csv")):
        with open(log, newline="") as f:
            for row in csv.DictReader(f):
                values = {k[len("train/"):]: float(v) for k, v in row.items()
                          if k.startswith("train/") and v not in ("", None)}
                if values:
                    rows[int(row["step"])] = {"step": int(row["step"]), **values}
    return [rows[s] for s in sorted(rows)]


def summarise(run: Path, window: int) -> dict:
    rows = curve(run)
    if not rows:
        raise SystemExit(f"error: {run}: no logged training steps under logs/")
    card_path = run / "encoder_card.json"
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    keys = [k for k in SHOWN if any(k in r for r in rows)]

    def mean(part: list[dict], key: str) -> float:
        vals = [r[key] for r in part if key in r and math.isfinite(r[key])]
        return sum(vals) / len(vals) if vals else float("nan")

    first, last = rows[:window], rows[-window:]
    return {
        "run": str(run), "encoder": card.get("encoder", {}).get("name") or run.name,
        "steps": card.get("steps", rows[-1]["step"] + 1),
        "minutes": round(card.get("train_seconds_total", card.get("train_seconds_this_run", 0)) / 60, 1),
        "hardware": card.get("hardware"),
        "first": {k: mean(first, k) for k in keys}, "last": {k: mean(last, k) for k in keys},
        "embed_std_min": min((r["embed_std"] for r in rows if "embed_std" in r), default=None),
    }


def fmt(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--window", type=int, default=10, help="logged steps averaged at each end")
    ap.add_argument("--out", type=Path, default=Path("metrics"))
    args = ap.parse_args(argv)
    runs = [summarise(r, args.window) for r in args.runs]
    lines = ["# Pre-training curves of SSL encoders", "", f"`{benchlib.command()}`", "",
             f"Means over the first and last {args.window} logged steps of each run; minutes and "
             "hardware from its `encoder_card.json` (0 when the run was stopped before writing it).",
             "", "| encoder | steps | minutes | statistic | first steps | last steps |",
             "|---|---|---|---|---|---|"]
    for s in runs:
        for i, key in enumerate(s["first"]):
            head = [f"`{s['run']}`", str(s["steps"]), str(s["minutes"])] if i == 0 else ["", "", ""]
            lines.append("| " + " | ".join(head + [key, fmt(s["first"][key]), fmt(s["last"][key])])
                         + " |")
    lines += ["", "Lowest `embed_std` over each run: "
              + ", ".join(f"`{s['run']}` {fmt(s['embed_std_min'])}" for s in runs) + "."]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pretraining.json").write_text(json.dumps(runs, indent=2) + "\n")
    (args.out / "pretraining.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
