"""File-by-file differences between two (run, limit) rows of `atten_limit_sweep.py` outputs:
mean and 95% interval per metric, one Markdown row per sweep file.

    python experiments/sweep_pairs.py metrics/adapt_limit/dev_*.json \\
        --row teacher:dfn3+default@20 --base teacher:default@20

A row is RUN@LIMIT, LIMIT a number of dB or `none`, as the sweep named them.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # compare_runs, beside this script
from compare_runs import METRICS, _interval  # noqa: E402


def scores(sweep: dict, row: str) -> list[dict]:
    run, _, limit = row.rpartition("@")
    key = "None" if limit == "none" else str(float(limit))
    return sweep["runs"][run]["per_file"][key]


def paired(sweep: dict, row: str, base: str) -> list[str]:
    a, b = scores(sweep, row), scores(sweep, base)
    cells = []
    for key, _, d in METRICS:
        diff = [x[key] - y[key] for x, y in zip(a, b, strict=True)
                if math.isfinite(x[key]) and math.isfinite(y[key])]
        cells.append(_interval(diff, d))
    return cells


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweeps", nargs="+", type=Path)
    p.add_argument("--row", required=True, help="RUN@LIMIT")
    p.add_argument("--base", required=True, help="RUN@LIMIT")
    a = p.parse_args()
    print(f"| sweep (files) | {a.row} − {a.base}: " + " | ".join(f"Δ{m[1]}" for m in METRICS)
          + " |\n|---|" + "---|" * len(METRICS))
    for path in a.sweeps:
        sweep = json.loads(path.read_text())
        files = len(next(iter(sweep["runs"].values()))["names"])
        print(f"| {path.stem} ({files}) | " + " | ".join(paired(sweep, a.row, a.base)) + " |")


if __name__ == "__main__":
    main()
