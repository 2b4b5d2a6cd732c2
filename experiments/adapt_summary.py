"""metrics/adapt.md from the runs of `experiments/adapt_protocol.py`: per domain, every system
file by file against the unadapted default on the domain's scored files (mean and 95% interval
of the paired differences), what `adapt` did there, and the adapted student against its teacher.

    python experiments/adapt_summary.py --runs runs/adapt_heldout_auto \\
        --transductive runs/adapt_early runs/adapt_default_auto --out metrics/adapt.md

`--runs`: the protocol's held-out runs (`default`, `teacher_T[_ownlimit|_written]`,
`student_auto_default[_ownlimit]`, `student_auto_default_refused`: a refused student's own
files). `--transductive`: runs that adapted on the scored files themselves
(`transductive_auto_default`; `student_files`, the kept or refused student's own files, where
scored); the first folder that has a domain wins. The files `adapt` writes there are the chosen
teacher's as `adapt` writes them today (`teacher_T_written`) when it trained (a teacher passed
the check, so `--outputs auto` writes the teacher's), else the unadapted default's.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # compare_runs, beside this script
from compare_runs import METRICS, _interval, _per_file  # noqa: E402

DOMAINS = {"conversations": "long recordings with pauses (corpus v2's test voices in its test noises)",
           "unseen_voice": "the test split's real voices, which training never has",
           "unseen_noise": "noise from the test-only noise packages",
           "reverberant": "reverberant rooms",
           "telephone": "telephone channel (8 kHz, 300–3400 Hz)"}
TEACHERS = {"dfn3": "DeepFilterNet3", "rnnoise": "RNNoise",
            "dfn3+default": "mean of DeepFilterNet3 and the default",
            "rnnoise+default": "mean of RNNoise and the default"}
PREAMBLE = """# `sepssl adapt` on corpus v2's domains, with its defaults

The protocol of issue 14: five domains the shipped default never trained on, built from
corpus v2's test split (`python experiments/adapt_domains.py --corpus corpus_v2 --out
runs/v2_domains`), each split by file into recordings to adapt on (noisy only) and a disjoint
scored half with clean references. `adapt` runs with its defaults (`--teacher auto --method
distill --outputs auto`, 10 minutes on one CPU thread of the shared 2-core machine, two runs
side by side), the shipped default as the student:

- **held out**: adapted on the adapt half, the adapted model file scored on the scored half
  (what a user gets on recordings it did not adapt on);
- **on the scored files**: adapted on the scored half itself, the files `adapt` writes scored
  (what a user runs: adapt on the files, keep the outputs).

Every row is file by file against the unadapted default (its 20 dB limit), mean [95%
interval]. Commands:

```sh
R=runs/adapt_heldout_auto
P="python experiments/adapt_protocol.py --domains-dir runs/v2_domains --out $R --tables $R/tables"
$P --teachers auto --method default --minutes 10 --domains conversations unseen_voice reverberant
$P --teachers auto --method default --minutes 10 --domains unseen_noise telephone   # beside it
$P --teachers rnnoise rnnoise+default dfn3 dfn3+default --teachers-only --teacher-outputs \\
   --domains conversations unseen_voice unseen_noise reverberant telephone
# a refused student's own files
source experiments/score.sh
score_model $R/<domain>/student_auto_default/model.refused.pt runs/v2_domains/<domain>/score \\
   $R/<domain>/student_auto_default_refused
# on the scored files (runs/adapt_early: metrics/adapt_auto/README.md)
python experiments/adapt_protocol.py --domains-dir runs/v2_domains --teachers auto --method default \\
   --transductive-only --minutes 10 --out runs/adapt_default_auto --domains telephone
```

The runs on the scored files of the other four domains (`runs/adapt_early`) predate the 30 dB
limit of the teacher's files and today's teacher rule (`teacher_passes`; they chose the same
teacher), so the files `adapt` writes now are scored as the chosen teacher's through the same
`TeacherModel` and `enhance` (`teacher_<t>_written`). On the telephone band, run with today's
code, `adapt`'s own files score the same as `teacher_dfn3+default_written` to the fourth digit
(PESQ 1.6912, STOI 0.7920, ESTOI 0.6234, SI-SDR 4.9129 dB).
"""
STUDENT = "student_auto_default"     # the protocol's name for `--teachers auto --method default`


def paired(run: Path, base: Path) -> list[str]:
    """Per metric: mean [95% interval] of run − base over the files both scored."""
    a, b = _per_file(run), _per_file(base)
    cells = []
    for key, _, d in METRICS:
        common = sorted(set(a[key]) & set(b[key]))
        cells.append(_interval([a[key][f] - b[key][f] for f in common], d))
    return cells


def what_adapt_did(card: Path) -> str:
    """The teacher `auto` chose, steps (the kept one), training minutes and the verdict."""
    if not card.is_file():
        return ""
    a = json.loads(card.read_text())
    if not a.get("steps"):
        return "no teacher passed the check: not trained"
    kept = f", kept step {a['selected_step']}" if a.get("selected_step") is not None else ""
    stop = ", stopped early" if a.get("stopped_early") else ""
    return (f"{a['chosen']}, {a['method']}: {a['steps']} steps{kept}{stop}, "
            f"{a['train_seconds'] / 60:.1f} min; {'kept' if a['kept'] == 'adapted' else 'refused'}")


def files_written(held: Path, trans: Path) -> Path:
    """The report of the files `adapt` writes on the scored files with today's code: the chosen
    teacher's at `TEACHER_LIMIT_DB` when it trained, else the unadapted default's."""
    a = json.loads((trans / "transductive_auto_default" / "adapt.json").read_text())
    if a.get("steps"):
        return held / f"teacher_{a['chosen']}_written" / "report"
    return held / "default" / "report"


def chosen_teacher(card: Path) -> str | None:
    return json.loads(card.read_text()).get("chosen") if card.is_file() else None


def domain_table(held: Path, trans: Path | None) -> str:
    base = held / "default" / "report"
    summary = json.loads((base / "summary.json").read_text())
    scores = summary["scores"]
    head = ("| system | " + " | ".join(f"Δ{m[1]}" for m in METRICS) + " | what `adapt` did |\n"
            "|---|" + "---|" * (len(METRICS) + 1))
    lines = [head, "| unadapted default (20 dB limit), absolute: input → output | " + " | ".join(
        f"{scores[k]['input']['mean']:.{d}f} → {scores[k]['enhanced']['mean']:.{d}f}"
        for k, _, d in METRICS) + " | – |"]

    def row(label: str, run: Path, note: str = "") -> None:
        if (run / "summary.json").is_file():
            lines.append(f"| {label} | " + " | ".join(paired(run, base)) + f" | {note} |")

    for t, name in TEACHERS.items():
        row(f"{name}, no limit", held / f"teacher_{t}" / "report")
        row(f"{name}, 20 dB limit (as the check hears it)", held / f"teacher_{t}_ownlimit" / "report")
        row(f"{name}, 30 dB limit (as `adapt` writes it)", held / f"teacher_{t}_written" / "report")
    card = held / STUDENT / "adapt.json"
    row("held out: the adapted student, as `enhance` runs it (20 dB)",
        held / f"{STUDENT}_ownlimit" / "report", what_adapt_did(card))
    row("held out: the refused student itself (20 dB)", held / f"{STUDENT}_refused" / "report")
    if trans is not None:
        tcard = trans / "transductive_auto_default" / "adapt.json"
        row("on the scored files: the files `adapt` writes", files_written(held, trans),
            what_adapt_did(tcard))
        row("on the scored files: the student's own files (20 dB)",
            trans / "student_files" / "report")
    text = f"{summary['files']['scored']} scored files.\n\n" + "\n".join(lines) + "\n"

    vs = []
    teacher = chosen_teacher(card)
    if teacher and (held / f"teacher_{teacher}_ownlimit").is_dir():
        mine = held / f"{STUDENT}_ownlimit" / "report"
        if json.loads(card.read_text()).get("kept") != "adapted":
            mine = held / f"{STUDENT}_refused" / "report"
        if (mine / "summary.json").is_file():
            vs.append(f"| held-out student − its teacher ({teacher}) | "
                      + " | ".join(paired(mine, held / f"teacher_{teacher}_ownlimit" / "report"))
                      + " |")
    teacher = chosen_teacher(trans / "transductive_auto_default" / "adapt.json") if trans else None
    if teacher and (trans / "student_files" / "report" / "summary.json").is_file() \
            and (held / f"teacher_{teacher}_ownlimit").is_dir():
        vs.append(f"| student on the scored files − its teacher ({teacher}) | "
                  + " | ".join(paired(trans / "student_files" / "report",
                                      held / f"teacher_{teacher}_ownlimit" / "report")) + " |")
    if vs:
        text += ("\nThe student against its teacher, both with the 20 dB limit, file by file:\n\n"
                 "| comparison | " + " | ".join(f"Δ{m[1]}" for m in METRICS) + " |\n|---|"
                 + "---|" * len(METRICS) + "\n" + "\n".join(vs) + "\n")
    return text


def headline(runs: Path, transductive: list[Path]) -> str:
    """Per domain, what a user gets, against the unadapted default: the adapted model file on
    recordings it did not adapt on, and the files `adapt` writes on the recordings it adapted
    on. Cells: ΔPESQ, ΔSTOI, ΔSI-SDR."""
    keys = [m for m in METRICS if m[0] != "estoi"]
    lines = ["| domain | held out: the model file | " + " | ".join(f"Δ{m[1]}" for m in keys)
             + " | on the scored files: the files | " + " | ".join(f"Δ{m[1]}" for m in keys)
             + " |", "|---|" + "---|" * (2 * len(keys) + 2)]
    for domain in DOMAINS:
        held = runs / domain
        base = held / "default" / "report"
        mine = held / f"{STUDENT}_ownlimit" / "report"
        if not (mine / "summary.json").is_file():
            continue
        card = json.loads((held / STUDENT / "adapt.json").read_text())
        verdict = ("not trained" if not card.get("steps") else
                   "kept" if card["kept"] == "adapted" else "refused: the default")
        cells = [c for c, m in zip(paired(mine, base), METRICS) if m[0] != "estoi"]
        trans = next((t / domain for t in transductive
                      if (t / domain / "transductive_auto_default").is_dir()), None)
        whose, tcells = "–", [""] * len(keys)
        written = files_written(held, trans) if trans is not None else None
        if written is not None and (written / "summary.json").is_file():
            whose = ("the default's" if written == base
                     else f"the teacher's ({written.parent.name.removeprefix('teacher_')})")
            tcells = [c for c, m in zip(paired(written, base), METRICS) if m[0] != "estoi"]
        lines.append(f"| {domain} | {verdict} | " + " | ".join(cells) + f" | {whose} | "
                     + " | ".join(tcells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=Path, default=Path("runs/adapt_heldout_auto"))
    p.add_argument("--transductive", type=Path, nargs="*", default=[])
    p.add_argument("--out", type=Path, default=Path("metrics/adapt.md"))
    a = p.parse_args()
    made = f"Tables made by `python experiments/adapt_summary.py {' '.join(sys.argv[1:])}`."
    parts = [PREAMBLE, "", made, ""]
    parts += ["## What a user gets, per domain (file by file against the unadapted default)", "",
              headline(a.runs, a.transductive)]
    for domain, what in DOMAINS.items():
        held = a.runs / domain
        if not (held / "default" / "report" / "summary.json").is_file():
            continue
        trans = next((t / domain for t in a.transductive
                      if (t / domain / "transductive_auto_default").is_dir()), None)
        parts += [f"## {domain}: {what}", "", domain_table(held, trans)]
    a.out.write_text("\n".join(parts))
    print("\n".join(parts))


if __name__ == "__main__":
    main()
