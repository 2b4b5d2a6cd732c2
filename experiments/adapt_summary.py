"""metrics/adapt.md from the runs of `experiments/adapt_protocol.py`: per domain, every system
file by file against the unadapted default (mean and 95% interval of the paired differences),
every student against its own teacher, and the budget each adaptation used.

    python experiments/adapt_summary.py --runs runs/adapt_protocol --out metrics/adapt.md
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # compare_runs, beside this script
from compare_runs import METRICS, _interval, _per_file  # noqa: E402

DOMAINS = {"unseen_voice": "the test-only real voice (Asterisk ru)",
           "unseen_noise": "noise from the test-only package frozen-bubble-data",
           "reverberant": "reverberant rooms",
           "telephone": "telephone channel (8 kHz, 300–3400 Hz) on every test file",
           }
LABELS = {"default": "shipped default (12 dB limit)", "teacher_dfn3": "DeepFilterNet3 alone",
          "teacher_rnnoise": "RNNoise alone"}


def label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    kind, _, rest = name.partition("_")
    teacher, limited = rest.removesuffix("_limit12"), rest.endswith("_limit12")
    if kind == "transductive":   # `sepssl adapt` itself enhanced them: the student's 12 dB
        return f"student adapted on the scored files themselves, from {teacher} (12 dB limit)"
    return f"student from {teacher} ({'12 dB limit' if limited else 'no limit'})"


def paired(run: Path, base: Path) -> list[str]:
    a, b = _per_file(run), _per_file(base)
    cells = []
    for key, _, d in METRICS:
        common = sorted(set(a[key]) & set(b[key]))
        cells.append(_interval([a[key][f] - b[key][f] for f in common], d))
    return cells


def domain_table(root: Path) -> str:
    runs = sorted(p.parent.parent.name for p in root.glob("*/report/summary.json"))
    order = ["default"] + sorted(r for r in runs if r.startswith("teacher_")) + sorted(
        r for r in runs if r.startswith(("student_", "transductive_")))
    base = root / "default" / "report"
    summary = json.loads((base / "summary.json").read_text())
    files = summary["files"]["scored"]
    head = "| system | " + " | ".join(f"Δ{m[1]} vs default" for m in METRICS) + " | steps in the budget |"
    lines = [head, "|---|" + "---|" * (len(METRICS) + 1)]
    scores = summary["scores"]
    lines.append("| shipped default, absolute (input → output) | " + " | ".join(
        f"{scores[k]['input']['mean']:.{d}f} → {scores[k]['enhanced']['mean']:.{d}f}"
        for k, _, d in METRICS) + " | – |")
    for name in order[1:]:
        card = root / name.removesuffix("_limit12") / "adapt.json"
        steps = ""
        if card.is_file():
            a = json.loads(card.read_text())
            teacher = (f" + teacher {a['teacher_seconds']:.0f} s" if "teacher_seconds" in a else "")
            steps = f"{a['steps']} ({a['train_seconds'] / 60:.1f} min{teacher}), kept {a['kept']}"
        lines.append(f"| {label(name)} | " + " | ".join(paired(root / name / "report", base))
                     + f" | {steps} |")
    vs = []
    for name in order:
        teacher = "teacher_" + name.split("_")[1] if name.startswith(("student_", "transductive_")) else None
        if teacher and (root / teacher).is_dir():
            vs.append(f"| {label(name)} − {LABELS[teacher]} | "
                      + " | ".join(paired(root / name / "report", root / teacher / "report")) + " |")
    text = f"{files} scored files.\n\n" + "\n".join(lines) + "\n"
    if vs:
        text += ("\nStudent against its own teacher, file by file:\n\n| comparison | "
                 + " | ".join(f"Δ{m[1]}" for m in METRICS) + " |\n|---|" + "---|" * len(METRICS)
                 + "\n" + "\n".join(vs) + "\n")
    return text


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=Path, default=Path("runs/adapt_protocol"))
    p.add_argument("--out", type=Path, default=Path("metrics/adapt.md"))
    a = p.parse_args()
    parts = [f"Made by `python experiments/adapt_summary.py {' '.join(sys.argv[1:])}` from the "
             "runs of `python experiments/adapt_protocol.py --domains unseen_voice unseen_noise "
             "reverberant telephone --teachers dfn3 rnnoise default --minutes 10` (the row adapted on "
             "the scored files: `--domains unseen_voice --teachers dfn3 --transductive`; the "
             "ablations: `--domains unseen_voice --teachers dfn3 --lr 1e-3 --tag _lr1e-3` and "
             "`--remix-snr-db -5 10 --tag _snr-5_10`; domains from "
             "`python experiments/adapt_domains.py`, the full corpus of `sepssl data --size full`). "
             "Each domain's files were split in two: the student adapted on one half (noisy files "
             "only, 10 minutes on one CPU thread of a shared 2-core machine, two runs side by "
             "side), every system is scored on the other half. Δ = system − shipped default, "
             "per file, mean [95% interval]. Per-domain gains over the input: "
             "`metrics/adapt/<domain>.md` (`experiments/compare_runs.py --reports`).", ""]
    for domain, what in DOMAINS.items():
        root = a.runs / domain
        if (root / "default" / "report" / "summary.json").is_file():
            parts += [f"## {domain}: {what}", "", domain_table(root)]
    a.out.write_text("\n".join(parts))
    print("\n".join(parts))


if __name__ == "__main__":
    main()
