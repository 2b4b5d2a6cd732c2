"""Can a check built from the user's own recordings, without the teacher, tell a better
enhancer from a worse one? (issue 14: a guard that does not trust the teacher.)

The check ("clean stretches", `sepssl.domain_check`): in each recording, the shipped default
(no limit, `sepssl.adapt.pauses_found`, as `sepssl adapt` does) finds the pauses; the recording's SNR is estimated from the power in its pauses against the power
elsewhere. The cleanest recordings become references; noise mined from the pauses of the other
recordings is added to them at a drawn SNR; a system is scored by how well it gives back the
reference (SI-SDR, STOI). Everything in-domain (voice, channel, room, noise), nothing from the
teacher, no clean speech.

For each domain of `experiments/adapt_domains.py` it scores every system both ways: by the check
built from the scored half's noisy files only (not the half the students adapted on: its noise
is what they trained on), and by the truth on the same half with its clean references, so that
the check's verdicts (system − default) can be set beside the truth's.

    python experiments/guard_check.py --domains-dir runs/v2_domains \
        --domains unseen_voice unseen_noise reverberant telephone \
        --system default=default --system noclean=noclean --system dfn3=dfn3 \
        --system rnnoise=rnnoise --out metrics/adapt_guard/check.json
    (a student: --system NAME=path/to/model.pt[@DOMAIN], used in that domain only; a teacher
    mixed back as a student with a 20 dB limit would be: --system ens=dfn3+default~20)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sepssl import audio  # noqa: E402
from sepssl.adapt import as_enhancer, heard_as_student, pauses_found  # noqa: E402
from sepssl.data.datasets import list_audio  # noqa: E402
from sepssl.domain_check import check_rows, clean_stretch_pairs, finite_mean  # noqa: E402

def system(spec: str):
    """`enhance(wav (time,), rate) -> (time,)`: a sepssl model with its own limit (as `adapt`
    scores students), or a teacher as `load_teacher` takes it (`dfn3`, `rnnoise`,
    `dfn3+default`: no limit); `SPEC~L` mixes the input back at −L dB, as `adapt` scores a
    teacher for a student with that limit (`heard_as_student`)."""
    from sepssl.models.enhancer import load_model
    from sepssl.teachers import EXTERNAL, load_teacher, members

    spec, _, limit = spec.partition("~")
    if spec in EXTERNAL or len(members(spec)) > 1:
        return heard_as_student(load_teacher(spec), float(limit) if limit else None)
    if limit:
        raise SystemExit(f"--system {spec}~{limit}: a limit is for teachers; a sepssl model "
                         "is scored with its own")
    return as_enhancer(load_model(spec))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains-dir", type=Path, default=ROOT / "runs" / "v2_domains")
    p.add_argument("--domains", nargs="+", required=True)
    p.add_argument("--system", action="append", required=True, metavar="NAME=SPEC[@DOMAIN]")
    p.add_argument("--finder", default="default", help="the model that finds the pauses")
    p.add_argument("--check-on", choices=["score", "adapt"], default="score",
                   help="the noisy files the check is built from: the students adapted on "
                        "`adapt` (its noise is what they trained on), so `score` (its clean "
                        "files unused by the check) keeps the check's noise unseen, as the "
                        "held-back recordings of `sepssl adapt` would be")
    p.add_argument("--base", action="append", default=[], metavar="NAME:BASE",
                   help="compare system NAME with BASE instead of `default`")
    p.add_argument("--truth-from", type=Path, help="an earlier output: its truth is reused")
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    specs = []
    for item in a.system:
        name, _, spec = item.partition("=")
        spec, _, domain = spec.partition("@")
        specs.append((name, spec, domain or None))
    result = json.loads(a.out.read_text()) if a.out.is_file() else {}
    truths = {}   # the truth does not change with the check: reuse it from --truth-from
    if a.truth_from:
        truths = {d: {n: v["truth"] for n, v in r["systems"].items()}
                  for d, r in json.loads(a.truth_from.read_text()).items()}
    for domain in a.domains:
        root = a.domains_dir / domain
        rate = 16000
        recordings = [audio.read(f, rate)[0].mean(0)
                      for f in list_audio(root / a.check_on / "noisy")]
        if a.finder == "default":        # what `sepssl adapt` does
            found = pauses_found(recordings, rate)
        else:
            finder = system(a.finder)
            with torch.no_grad():
                found = [finder(w, rate) for w in recordings]
        check = clean_stretch_pairs(recordings, found, rate, seed=0)
        truth = [(audio.read(root / "score" / "noisy" / f.name, rate)[0].mean(0),
                  audio.read(f, rate)[0].mean(0)) for f in list_audio(root / "score" / "clean")]
        made = {"check_pairs": len(check.pairs), "reference_snr_db": check.reference_snr_db}
        out = result.get(domain, {})
        if {k: out.get(k) for k in made} != made:    # another check: its old scores are stale
            out = result[domain] = {**made, "systems": {}}
        for name, spec, only in specs:
            if only not in (None, domain):
                continue
            enhance = system(spec)
            known = truths.get(domain, {}).get(name)
            with torch.no_grad():
                out["systems"][name] = {"spec": spec,
                                        "check": check_rows(enhance, check.pairs, rate),
                                        "truth": known or check_rows(enhance, truth, rate)}
            print(domain, name, {part: {m: round(finite_mean(v), 3) for m, v in d.items()}
                                 for part, d in out["systems"][name].items() if part != "spec"},
                  flush=True)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=2))
    bases = dict(item.split(":") for item in a.base)
    a.out.with_suffix(".md").write_text(table(result, bases))
    print(table(result, bases))


def table(result: dict, bases: dict[str, str] | None = None) -> str:
    """Markdown: per domain and system, check and truth as system − its base (`bases`, else
    "default"), pair by pair, mean [95% interval]."""
    from sepssl.evaluation.summary import stats

    def delta(a: list[float], b: list[float]) -> str:
        if len(a) != len(b):
            raise SystemExit("guard_check: systems scored on different pairs; use a new --out")
        st = stats([x - y for x, y in zip(a, b)])
        lo, hi = st["ci95"]
        return f"{st['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}]"

    lines = ["| domain | system | check ΔSTOI | truth ΔSTOI | check ΔSI-SDR (dB) | "
             "truth ΔSI-SDR (dB) |", "|---|---|---|---|---|---|"]
    bases = bases or {}
    for domain, r in result.items():
        for name, v in r["systems"].items():
            base = bases.get(name, "default")
            if name == base or base not in r["systems"] or name in bases.values():
                continue
            b = r["systems"][base]
            lines.append(f"| {domain} ({r['check_pairs']} / {len(b['truth']['stoi'])}) | "
                         f"{name}{'' if base == 'default' else f' − {base}'} | "
                         f"{delta(v['check']['stoi'], b['check']['stoi'])} | "
                         f"{delta(v['truth']['stoi'], b['truth']['stoi'])} | "
                         f"{delta(v['check']['si_sdr'], b['check']['si_sdr'])} | "
                         f"{delta(v['truth']['si_sdr'], b['truth']['si_sdr'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
