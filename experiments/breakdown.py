"""Break an evaluation down by corpus condition: real vs TTS speech, real vs synthetic noise,
and input-SNR bands — the question a user asks is "does it help on recordings like mine?".

    python experiments/breakdown.py REPORT_DIR CORPUS_DIR/manifests/test.csv [--out table.md]

Reads REPORT_DIR/scores.csv (from `sepssl evaluate --noisy ...`) and the corpus manifest.
"""
from __future__ import annotations

import argparse
import csv
import math
import statistics
from pathlib import Path

METRICS = ("pesq", "stoi", "estoi", "si_sdr")


def condition_rows(scores: Path, manifest: Path) -> list[dict]:
    meta = {r["id"]: r for r in csv.DictReader(open(manifest)) if r["kind"] == "noisy"}
    rows = []
    for r in csv.DictReader(open(scores)):
        m = meta.get(Path(r["file"]).stem)
        if m is None:
            continue
        snr = float(m["snr_db"])
        rows.append({**r,
                     "speech": "TTS" if m["speech_source"] in ("espeak-ng", "flite", "festival") else "real",
                     "noise": "synthetic" if m["noise_source"] == "synthetic" else "real (some + synthetic)",
                     "snr_band": "-5..5 dB" if snr < 5 else ("5..12 dB" if snr < 12 else "12..20 dB")})
    return rows


def _mean(values: list[str]) -> float:
    xs = [float(v) for v in values if v not in ("", "nan")]
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.fmean(xs) if xs else float("nan")


def _order(value: str):
    """SNR bands by their lower edge, other groups alphabetically."""
    head = value.split("..")[0]
    return (0, float(head), "") if ".." in value else (1, 0.0, value)


def table(rows: list[dict]) -> str:
    head = "| group | files | " + " | ".join(f"{m} in → out (Δ)" for m in METRICS) + " |"
    lines = [head, "|" + "---|" * (2 + len(METRICS))]
    groups = [("all", lambda r: True)]
    for key in ("speech", "noise", "snr_band"):
        for value in sorted({r[key] for r in rows}, key=_order):
            groups.append((f"{key} = {value}", lambda r, k=key, v=value: r[k] == v))
    groups.append(("real speech in real noise",
                   lambda r: r["speech"] == "real" and r["noise"].startswith("real")))
    for name, keep in groups:
        sel = [r for r in rows if keep(r)]
        cells = []
        for m in METRICS:
            a, b = _mean([r.get(f"{m}_input", "") for r in sel]), _mean([r.get(m, "") for r in sel])
            cells.append(f"{a:.2f} → {b:.2f} ({b - a:+.2f})")
        lines.append(f"| {name} | {len(sel)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report_dir", type=Path)
    p.add_argument("manifest", type=Path)
    p.add_argument("--out", type=Path)
    a = p.parse_args()
    text = table(condition_rows(a.report_dir / "scores.csv", a.manifest))
    print(text)
    if a.out:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
