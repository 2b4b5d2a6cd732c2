"""Can a reference-free score tell, before adapting, whether a teacher beats the student?

`sepssl adapt` gains only where its teacher is better than the student it teaches (stop 21:
DeepFilterNet3 was no better than the shipped model on corpus v2's unseen voices, and adapting
to it gained little). A user has no clean speech, so the check must be reference-free. This
script asks whether DNSMOS (OVRL, SIG, BAK; `pip install 'sepssl[dnsmos]'`) of the teacher's
and the unadapted student's outputs ranks them as PESQ and SI-SDR against the clean speech do,
in every domain of the adapt protocol that has both outputs:

    python experiments/teacher_check.py --runs runs/adapt_protocol runs/adapt_protocol_v2 \
        --out metrics/teacher_check.md

For each (domain, teacher): the file-by-file mean difference teacher − student of PESQ and
SI-SDR (from the protocol's reports) and of the DNSMOS scores (computed here), with 95%
intervals; the DNSMOS sign agrees when it has the sign of the PESQ difference.
"""
from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np

from sepssl import audio
from sepssl.evaluation.metrics import score_pair
from sepssl.evaluation.summary import stats

DNSMOS = ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak")


def report_scores(report: Path) -> dict[str, dict[str, float]]:
    with open(report / "scores.csv", newline="") as f:
        return {r["file"]: {k: float(r[k]) for k in ("pesq", "si_sdr") if r[k] not in ("", "nan")}
                for r in csv.DictReader(f) if r["status"] == "ok"}


def dnsmos_scores(folder: Path, names: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for name in names:
        wav, rate = audio.read(folder / name)
        x = wav.mean(0).numpy()
        out[name] = {k: v for k, v in score_pair(x, x, rate, DNSMOS).items() if k in DNSMOS}
    return out


def cell(diffs: list[float], places: int) -> str:
    st = stats(diffs)
    return f"{st['mean']:+.{places}f} [{st['ci95'][0]:+.{places}f}, {st['ci95'][1]:+.{places}f}]"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=Path, nargs="+", required=True)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    rows = []
    for runs in a.runs:
        for domain in sorted(d for d in runs.iterdir() if (d / "default" / "report").is_dir()):
            for teacher in sorted(domain.glob("teacher_*")):
                if not (teacher / "report").is_dir():
                    continue
                ref, tea = report_scores(domain / "default" / "report"), report_scores(teacher / "report")
                names = sorted(set(ref) & set(tea))
                d_ref = dnsmos_scores(domain / "default" / "enhanced", names)
                d_tea = dnsmos_scores(teacher / "enhanced", names)
                diff = {k: [tea[n][k] - ref[n][k] for n in names if k in tea[n] and k in ref[n]]
                        for k in ("pesq", "si_sdr")}
                diff.update({k: [d_tea[n][k] - d_ref[n][k] for n in names
                                 if not (math.isnan(d_tea[n][k]) or math.isnan(d_ref[n][k]))]
                             for k in DNSMOS})
                agree = np.sign(np.mean(diff["dnsmos_ovrl"])) == np.sign(np.mean(diff["pesq"]))
                rows.append((f"{runs.name}/{domain.name}", teacher.name[len("teacher_"):],
                             len(names), diff, agree))
                print(rows[-1][:3], {k: round(float(np.mean(v)), 3) for k, v in diff.items()})
    lines = [f"Made by `python experiments/teacher_check.py --runs "
             f"{' '.join(map(str, a.runs))} --out {a.out}`.", "",
             "Teacher − unadapted shipped model, file by file, mean [95% interval]:", "",
             "| domain | teacher | files | ΔPESQ | ΔSI-SDR (dB) | ΔDNSMOS OVRL | ΔSIG | ΔBAK | "
             "OVRL agrees with PESQ |", "|---|---|---:|---|---|---|---|---|---|"]
    for dom, teacher, n, diff, agree in rows:
        lines.append(f"| {dom} | {teacher} | {n} | {cell(diff['pesq'], 3)} | "
                     f"{cell(diff['si_sdr'], 2)} | {cell(diff['dnsmos_ovrl'], 3)} | "
                     f"{cell(diff['dnsmos_sig'], 3)} | {cell(diff['dnsmos_bak'], 3)} | "
                     f"{'yes' if agree else 'no'} |")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
