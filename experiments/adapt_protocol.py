"""Run `sepssl adapt`'s domain-shift protocol and score it (the tables of metrics/adapt.md).

For each domain of `experiments/adapt_domains.py` and each teacher it scores, on the domain's
`score/` part (never adapted on): the unadapted default model, the teacher alone, and the
student adapted from that teacher on the domain's `adapt/` part within the budget, scored
without an attenuation limit (`student_T`), with v1's shipped 12 dB (`student_T_limit12`) and
with the limit it keeps from its starting model, what `adapt` enhances with (`_ownlimit`). With
`--transductive` it also adapts on the `score/noisy` files themselves and scores those outputs
(what a user runs: adapt on the very files, keep the outputs). With `--rounds N` it runs
RemixIT's sequential update: round k adapts round k−1's student with it as the teacher. With
`--method` another of `adapt`'s methods (`mined_remix`, `noisy_target`: noise mined from the
recordings' pauses); its students are named `student_T_METHOD`. With `--student noclean` the
shipped `noclean` is adapted and is the tables' first row (`..._from_noclean`). With
`--teachers-only` no student is adapted (teachers joined by "+", e.g. `dfn3+default`, are
scored as one). Then one table per domain with
`experiments/compare_runs.py --reports` (gains with 95% intervals, file by file against the
unadapted default).

    python experiments/adapt_domains.py          # once: runs/adapt_domains
    python experiments/adapt_protocol.py --domains unseen_voice telephone \\
        --teachers default dfn3 rnnoise --minutes 10 --out runs/adapt_protocol

Finished steps (a report already there) are not run again, so the script resumes.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from sepssl import audio, load_model
from sepssl.adapt import TEACHER_LIMIT_DB, adapt
from sepssl.enhance import enhance_paths
from sepssl.evaluation import evaluate
from sepssl.teachers import load_teacher
from sepssl.teachers.as_model import TeacherModel

ROOT = Path(__file__).resolve().parent.parent


def score(est: Path, domain: Path, report: Path) -> None:
    evaluate(domain / "score" / "clean", est, noisy_dir=domain / "score" / "noisy",
             report_dir=report, jobs=1, progress=False)


def teacher_alone(name: str, noisy: Path, out: Path) -> None:
    """The teacher `name`'s raw estimates (no limit) of every file in `noisy`, into `out`."""
    teacher = load_teacher(name)
    for src in sorted(noisy.glob("*.wav")):
        wav, rate = audio.read(src)
        est = torch.stack([teacher.enhance(ch, rate) for ch in wav])
        audio.write(out / src.name, est, rate)


def teacher_as_written(name: str, student: str, domain: Path, out: Path,
                       limit_db: float | None = None) -> None:
    """The teacher's estimates through `enhance`, at the student's rate, with the limit
    `limit_db` (None: the student's own, as the check hears the teacher; `TEACHER_LIMIT_DB`:
    as `sepssl adapt --outputs teacher` writes them)."""
    model = load_model(student)
    limit = model.atten_lim_db if limit_db is None else limit_db
    enhance_paths(TeacherModel(load_teacher(name), model.sample_rate, limit),
                  [str(domain / "score" / "noisy")], out, progress=False)


def run(domain: Path, teachers: list[str], minutes: float, out: Path, transductive: bool,
        seed: int, tag: str = "", rounds: int = 1, student: str = "default",
        teachers_only: bool = False, held_out: bool = True, teacher_outputs: bool = False,
        **adapt_options) -> list[Path]:
    reports = []
    method = adapt_options.get("method", "remixit")
    method_suffix = "" if method == "remixit" else f"_{method or 'default'}"
    if student != "default":
        method_suffix += f"_from_{student}"

    def step(name: str, make) -> None:
        report = out / name / "report"
        if not (report / "summary.json").is_file():
            t0 = time.time()
            make(out / name)
            score(out / name / "enhanced", domain, report)
            print(f"{domain.name}/{name}: {time.time() - t0:.0f} s", flush=True)
        reports.append(report)

    step(student, lambda d: enhance_paths(load_model(student), [str(domain / "score" / "noisy")],
                                          d / "enhanced", progress=False))
    for t in teachers:
        if t not in ("default", "auto"):
            step(f"teacher_{t}", lambda d, t=t: teacher_alone(t, domain / "score" / "noisy",
                                                                  d / "enhanced"))
            if teacher_outputs:
                step(f"teacher_{t}_ownlimit", lambda d, t=t: teacher_as_written(
                    t, student, domain, d / "enhanced"))
                step(f"teacher_{t}_written", lambda d, t=t: teacher_as_written(
                    t, student, domain, d / "enhanced", TEACHER_LIMIT_DB))

        def adapted(d: Path, teacher: str, student: str = student) -> None:
            rep = adapt([str(domain / "adapt" / "noisy")], d / "adapt_out", teacher=teacher,
                        student=student, minutes=minutes, device="cpu", save_model=d / "model.pt",
                        seed=seed, progress=False, **adapt_options)
            (d / "adapt.json").write_text(json.dumps({
                "teacher": teacher, "chosen": rep.teacher, "method": rep.method,
                "student": student, "minutes_budget": minutes,
                "seconds_of_audio": rep.seconds_of_audio,
                "teacher_seconds": round(rep.teacher_seconds, 1),
                "train_seconds": round(rep.train_seconds, 1), "steps": rep.steps,
                "selected_step": rep.selected_step, "stopped_early": rep.stopped_early,
                "guard_before_db": rep.guard_before_db, "guard_after_db": rep.guard_after_db,
                "check_pairs": rep.check_pairs, "check_before": rep.check_before,
                "check_after": rep.check_after, "check_teacher": rep.check_teacher,
                "kept": rep.kept, "options": adapt_options}, indent=2))
            enhance_paths(load_model(d / "model.pt"), [str(domain / "score" / "noisy")],
                          d / "enhanced", progress=False, atten_lim_db=None)

        def with_limit(d: Path, name: str, **limit) -> None:   # the same model with a limit
            enhance_paths(load_model(out / name / "model.pt"), [str(domain / "score" / "noisy")],
                          d / "enhanced", progress=False, **limit)

        def limited(name: str) -> None:
            """`name` with 12 dB (v1's shipped limit) and with its own (what `adapt` writes)."""
            step(f"{name}_limit12", lambda d: with_limit(d, name, atten_lim_db=12.0))
            step(f"{name}_ownlimit", lambda d: with_limit(d, name))

        if teachers_only:
            continue
        # round k > 1: RemixIT's sequential update, the last round's student is teacher and
        # starting student of the next
        name = f"student_{t}{method_suffix}{tag}"
        if held_out:
            step(name, lambda d, t=t: adapted(d, t))
            limited(name)
        for k in range(2, rounds + 1 if held_out else 1):
            last, name = name, f"student_{t}{method_suffix}{tag}_round{k}"
            prev = str(out / last / "model.pt")
            step(name, lambda d, p=prev: adapted(d, p, p))
            limited(name)

        if transductive:
            def on_the_files(d: Path, t=t) -> None:
                rep = adapt([str(domain / "score" / "noisy")], d / "enhanced", teacher=t,
                            student=student, minutes=minutes, device="cpu",
                            save_model=d / "model.pt", seed=seed, progress=False, **adapt_options)
                (d / "adapt.json").write_text(json.dumps({
                    "teacher": t, "chosen": rep.teacher, "method": rep.method,
                    "steps": rep.steps, "selected_step": rep.selected_step,
                    "stopped_early": rep.stopped_early, "kept": rep.kept,
                    "check_pairs": rep.check_pairs,
                    "check_before": rep.check_before, "check_after": rep.check_after,
                    "check_teacher": rep.check_teacher,
                    "teacher_seconds": round(rep.teacher_seconds, 1),
                    "train_seconds": round(rep.train_seconds, 1)}, indent=2))
            step(f"transductive_{t}{method_suffix}{tag}", on_the_files)
    return reports


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains-dir", type=Path, default=Path("runs/adapt_domains"))
    p.add_argument("--domains", nargs="+", default=["unseen_voice", "unseen_noise",
                                                     "reverberant", "telephone"])
    p.add_argument("--teachers", nargs="+", default=["default", "dfn3", "rnnoise"])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--transductive", action="store_true")
    p.add_argument("--transductive-only", action="store_true",
                   help="adapt on the scored files only (no student on the adapt/ part)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/adapt_protocol"))
    p.add_argument("--tables", type=Path, default=Path("metrics/adapt"))
    p.add_argument("--lr", type=float, default=3e-4, help="the student's learning rate")
    p.add_argument("--remix-snr-db", type=float, nargs=2, default=None,
                   help="remix at an SNR drawn from this range (default: the noise's own level)")
    p.add_argument("--tag", default="", help="suffix of the student folders (for ablations)")
    p.add_argument("--method", default="remixit",
                   help="adapt's method (sepssl.adapt.METHODS; `default`: adapt's own choice)")
    p.add_argument("--student", default="default",
                   help="the model adapted, and the first row of the tables (a shipped name)")
    p.add_argument("--teacher-outputs", action="store_true",
                   help="also score each teacher's estimates through `enhance` at the "
                        "student's rate, with the student's limit (as the check hears it: "
                        "teacher_<t>_ownlimit) and as `adapt --outputs teacher` writes them "
                        "(TEACHER_LIMIT_DB: teacher_<t>_written)")
    p.add_argument("--teachers-only", action="store_true",
                   help="score the default and the teachers alone, adapt no student")
    p.add_argument("--rounds", type=int, default=1,
                   help="adaptation rounds; each next one has the last student as its teacher")
    a = p.parse_args()
    torch.set_num_threads(1)
    for name in a.domains:
        reports = run(a.domains_dir / name, a.teachers, a.minutes, a.out / name,
                      a.transductive or a.transductive_only,
                      a.seed, a.tag, a.rounds, lr=a.lr, remix_snr_db=a.remix_snr_db,
                      student=a.student, method=None if a.method == "default" else a.method,
                      teachers_only=a.teachers_only, teacher_outputs=a.teacher_outputs,
                      held_out=not a.transductive_only)
        subprocess.run([sys.executable, str(ROOT / "experiments" / "compare_runs.py"),
                        "--reports", *map(str, reports), "--out", str(a.tables),
                        "--reports-name", f"{name}.md"], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
