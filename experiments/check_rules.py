"""How often `sepssl adapt`'s keep-or-refuse rule agrees with the truth, over students it made.

For each `DOMAIN=MODEL`, the check of clean stretches is built from `DOMAIN/score/noisy` as
`adapt` builds it from the recordings it adapts on (`experiments/check_replay.py`), and the
model and the shipped default are scored on it pair by pair; the truth is both of them on the
same files against `DOMAIN/score/clean` (STOI and SI-SDR, the check's metrics), file by file.
Several check sizes (`--per-reference`: mixtures made of each reference) and several rules are
compared; the JSON keeps every row, so a new rule is a new reading, not a new run.

    python experiments/check_rules.py --out runs/check_rules/rows.json \
        runs/v2_domains/telephone=runs/adapt_mined/telephone/student_dfn3/model.pt ...
    python experiments/check_rules.py --table metrics/adapt_guard/rules.md \
        --rows runs/check_rules/rows.json ...

The truth of a model: a loss when the 95% interval of its ΔSTOI or ΔSI-SDR against the default
lies below 0, a gain when neither loses and one of them has its interval above 0, else level.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from check_replay import RATE, replayed_checks  # noqa: E402
from sepssl import audio  # noqa: E402
from sepssl.adapt import as_enhancer  # noqa: E402
from sepssl.data.datasets import list_audio  # noqa: E402
from sepssl.domain_check import CHECK_METRICS, check_rows  # noqa: E402
from sepssl.evaluation.metrics import score_pair  # noqa: E402
from sepssl.models.enhancer import load_model  # noqa: E402


def truth_rows(enhance, noisy: list[torch.Tensor], clean: list[torch.Tensor]
               ) -> dict[str, list[float]]:
    rows = [score_pair(c, enhance(y, RATE), RATE, CHECK_METRICS) for y, c in zip(noisy, clean)]
    return {m: [r[m] for r in rows] for m in CHECK_METRICS}


def domain_sets(domain: Path, per_reference: list[int]) -> dict:
    files = list_audio(domain / "score" / "noisy")
    noisy = [audio.read(f, RATE)[0].mean(0) for f in files]
    clean = [audio.read(domain / "score" / "clean" / f.name, RATE)[0].mean(0) for f in files]
    checks = replayed_checks(noisy, per_reference)
    return {"noisy": noisy, "clean": clean, "checks": checks}


def rows_of(model_path: str, sets: dict) -> dict:
    enhance = as_enhancer(load_model(model_path))
    return {"truth": truth_rows(enhance, sets["noisy"], sets["clean"]),
            "check": {str(n): check_rows(enhance, c.pairs, RATE)
                      for n, c in sets["checks"].items()}}


def diffs(a: list[float], b: list[float]) -> list[float]:
    """Pair by pair `a − b`, NaN where either could not be scored."""
    return [x - y for x, y in zip(a, b)]


def by_reference(d: list[float], per_reference: int) -> list[float]:
    """Per-pair differences averaged over each reference's mixtures (pairs come in order,
    `per_reference` of each): the references, not the mixtures, are what is sampled."""
    groups = [[x for x in d[i:i + per_reference] if math.isfinite(x)]
              for i in range(0, len(d), per_reference)]
    return [sum(g) / len(g) for g in groups if g]


def truth_label(dstoi: dict, dsdr: dict) -> str:
    if dstoi["ci95"][1] < 0 or dsdr["ci95"][1] < 0:
        return "loss"
    return "gain" if dstoi["ci95"][0] > 0 or dsdr["ci95"][0] > 0 else "level"


RULES = {
    "means (adapt today)": lambda s, r: s["stoi"]["mean"] >= 0 and s["si_sdr"]["mean"] >= 0,
    "no loss seen, pairs": lambda s, r: s["stoi"]["ci95"][1] >= 0 and s["si_sdr"]["ci95"][1] >= 0,
    "no loss seen, references": lambda s, r: r["stoi"]["ci95"][1] >= 0
    and r["si_sdr"]["ci95"][1] >= 0,
    "STOI mean, SI-SDR no loss seen": lambda s, r: s["stoi"]["mean"] >= 0
    and s["si_sdr"]["ci95"][1] >= 0,
}


def table(result: dict) -> str:
    """One row per model (truth, then the check at each size) and the rules' tally."""
    from sepssl.evaluation.summary import stats

    def cell(st: dict, places: int) -> str:
        return (f"{st['mean']:+.{places}f} [{st['ci95'][0]:+.{places}f}, "
                f"{st['ci95'][1]:+.{places}f}]")

    sizes = sorted({int(n) for k, v in result.items() if not k.endswith("=default")
                    for n in v["check"]})
    head = ["domain", "model", "truth ΔSTOI", "truth ΔSI-SDR (dB)", "truth"]
    for n in sizes:
        head += [f"check ×{n}: mixtures", f"ΔSTOI ×{n}", f"ΔSI-SDR ×{n}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    tally = {(rule, n): {"kept loss": 0, "refused gain": 0, "right": 0, "level kept": 0,
                         "level refused": 0} for rule in RULES for n in sizes}
    for key, rows in result.items():
        domain, _, model = key.partition("=")
        if model == "default":
            continue
        base = result[f"{domain}=default"]
        t = {m: stats(diffs(rows["truth"][m], base["truth"][m])) for m in CHECK_METRICS}
        label = truth_label(t["stoi"], t["si_sdr"])
        cells = [Path(domain).name, f"`{model}`", cell(t["stoi"], 4), cell(t["si_sdr"], 2),
                 label]
        for n in sizes:
            if str(n) not in rows["check"]:
                cells += ["", "", ""]
                continue
            d = {m: diffs(rows["check"][str(n)][m], base["check"][str(n)][m])
                 for m in CHECK_METRICS}
            s = {m: stats(d[m]) for m in CHECK_METRICS}
            r = {m: stats(by_reference(d[m], n)) for m in CHECK_METRICS}
            cells += [str(s["stoi"]["count"]), cell(s["stoi"], 4), cell(s["si_sdr"], 2)]
            for rule, keeps in RULES.items():
                kept = keeps(s, r)
                count = tally[(rule, n)]
                if label == "level":
                    count["level kept" if kept else "level refused"] += 1
                elif (label == "gain") == kept:
                    count["right"] += 1
                else:
                    count["kept loss" if kept else "refused gain"] += 1
        lines.append("| " + " | ".join(cells) + " |")
    out = ["\n".join(lines), "",
           ("| rule | mixtures per reference | right | kept a loss | refused a gain | "
            "level: kept / refused |"), "|---|---|---|---|---|---|"]
    for (rule, n), c in tally.items():
        out.append(f"| {rule} | {n} | {c['right']} | {c['kept loss']} | {c['refused gain']} | "
                   f"{c['level kept']} / {c['level refused']} |")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", nargs="*", metavar="DOMAIN=MODEL")
    ap.add_argument("--per-reference", type=int, nargs="+", default=[3, 8])
    ap.add_argument("--out", help="the rows' JSON (added to when it exists)")
    ap.add_argument("--rows", nargs="+", default=[], help="rows' JSON files to tabulate")
    ap.add_argument("--table", help="write the table (markdown) of --rows here")
    args = ap.parse_args()
    if args.table:
        result = {}
        for f in args.rows:
            result |= json.loads(Path(f).read_text())
        Path(args.table).write_text(table(result))
        print(Path(args.table).read_text())
        return
    torch.set_num_threads(1)
    out = Path(args.out)
    result = json.loads(out.read_text()) if out.exists() else {}
    sets: dict[str, dict] = {}
    for arg in args.pairs:
        domain, _, model = arg.partition("=")
        if arg in result:
            continue
        if domain not in sets:
            sets[domain] = domain_sets(Path(domain), args.per_reference)
            base = rows_of("default", sets[domain])
            base["references"] = {str(n): c.references for n, c in
                                  sets[domain]["checks"].items()}
            result[f"{domain}=default"] = base
        result[arg] = rows_of(model, sets[domain])
        t = result[arg]["truth"]
        b = result[f"{domain}=default"]["truth"]
        d = [x - y for x, y in zip(t["si_sdr"], b["si_sdr"]) if math.isfinite(x - y)]
        print(f"{arg}: truth ΔSI-SDR {sum(d) / len(d):+.2f} dB", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
