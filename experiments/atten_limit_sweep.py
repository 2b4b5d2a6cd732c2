"""How the attenuation limit (`sepssl enhance --atten-lim-db`) trades noise removal against
intelligibility, on the VALID split (so a limit can be chosen there and then scored on test).

    python experiments/atten_limit_sweep.py runs/noisy_target runs/supervised ... \\
        --split corpus/valid --out metrics/atten_limit

A RUN is a run folder (its model.pt) or a checkpoint file in one (runs/R/checkpoints/best.ckpt),
for runs stopped before they exported a model, or `teacher:NAME`, an `adapt` teacher
(`sepssl.teachers.load_teacher`: `dfn3`, `dfn3+default`, ...), whose estimates go beside the
split (`<split>_enhanced_<NAME>`). For the limit `adapt --outputs teacher` writes with, on
`experiments/adapt_domains.py --adapt-clean`'s adapt parts (never scored):

    python experiments/atten_limit_sweep.py teacher:dfn3+default \
        --split runs/v2_dev/conversations/adapt --limits 40 30 25 20 15 --out metrics/adapt_limit/conversations

Each run's model enhances the split once without a limit (`sepssl.enhance.enhance_paths`, into
RUN/<split>_enhanced, or RUN/<split>_enhanced_<checkpoint> for a checkpoint, unless it is there); the limit is then applied file by file with the same
function `sepssl enhance` uses (`dsp.mixing.limit_attenuation`: the blend is linear, so blending
whole files equals blending chunk by chunk) and scored with `sepssl.evaluation.score_pair`.
Writes `<out>.json` (every number) and `<out>.md` (mean improvement over the input per limit).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from sepssl import audio, load_model
from sepssl.dsp.mixing import limit_attenuation
from sepssl.enhance import enhance_paths
from sepssl.evaluation import score_pair

sys.path.insert(0, str(Path(__file__).resolve().parent))   # adapt_protocol, beside this script
from adapt_protocol import teacher_alone  # noqa: E402

METRICS = ("pesq", "stoi", "estoi", "si_sdr")
LIMITS = (None, 30.0, 20.0, 15.0, 12.0, 10.0, 8.0, 6.0)


def enhanced_dir(run: Path, split: Path) -> Path:
    if str(run).startswith("teacher:"):
        name = str(run).removeprefix("teacher:")
        out = split.parent / f"{split.name}_enhanced_{name}"
        if not out.is_dir():   # written whole, then renamed: a stopped run leaves no half
            part = out.with_name(out.name + ".part")
            teacher_alone(name, split / "noisy", part)
            part.rename(out)
        return out
    if run.is_file():  # a checkpoint: runs/R/checkpoints/C.ckpt
        model, out = run, run.parent.parent / f"{split.name}_enhanced_{run.stem}"
    else:
        model, out = run / "model.pt", run / f"{split.name}_enhanced"
    if not out.is_dir():
        report = enhance_paths(load_model(model), [str(split / "noisy")], out,
                               progress=False, atten_lim_db=None)  # the model's raw output
        if not report.ok:
            raise SystemExit(f"{run}: enhancing {split} failed: {report.failed[:3]}")
    return out


def sweep(run: Path, split: Path, limits, files: int | None) -> dict:
    enh_dir = enhanced_dir(run, split)
    names = sorted(p.name for p in (split / "clean").glob("*.wav"))[:files]
    rows = {str(lim): [] for lim in limits}
    inputs = []
    for name in names:
        clean, rate = audio.read(split / "clean" / name)
        noisy, _ = audio.read(split / "noisy" / name)
        enh, _ = audio.read(enh_dir / name)
        inputs.append(score_pair(clean.numpy(), noisy.numpy(), rate, METRICS))
        for lim in limits:
            est = limit_attenuation(enh, noisy, lim)
            rows[str(lim)].append(score_pair(clean.numpy(), est.numpy(), rate, METRICS))
    summary = {}
    for lim, scores in rows.items():
        summary[lim] = {m: float(np.nanmean([s[m] - i[m] for s, i in zip(scores, inputs)]))
                        for m in METRICS}
    return {"files": len(names), "input": {m: float(np.nanmean([i[m] for i in inputs]))
                                           for m in METRICS}, "improvement": summary,
            # per file, for paired comparisons between limits and runs
            "names": names, "per_file": {"input": inputs, **rows}}


def table(results: dict) -> str:
    lines = ["| run | attenuation limit (dB) | PESQ | STOI | ESTOI | SI-SDR (dB) |",
             "|---|---|---|---|---|---|"]
    for run, r in results.items():
        for lim, imp in r["improvement"].items():
            label = "none" if lim == "None" else f"{float(lim):g}"
            lines.append(f"| `{run}` | {label} | {imp['pesq']:+.3f} | {imp['stoi']:+.4f} | "
                         f"{imp['estoi']:+.4f} | {imp['si_sdr']:+.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--split", type=Path, default=Path("corpus/valid"))
    p.add_argument("--files", type=int, default=None, help="score only the first N pairs")
    p.add_argument("--limits", type=float, nargs="*", default=None,
                   help="limits in dB to try (default: %s; 'none' is always tried)"
                   % ", ".join(f"{x:g}" for x in LIMITS[1:]))
    p.add_argument("--out", type=Path, required=True, help="output path without suffix")
    args = p.parse_args()
    torch.set_num_threads(1)
    limits = (None, *(args.limits if args.limits else LIMITS[1:]))
    results = {}
    for run in args.runs:
        results[str(run)] = sweep(run, args.split, limits, args.files)
        print(f"{run}: done", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"split": str(args.split),
            "command": "python experiments/atten_limit_sweep.py " + " ".join(sys.argv[1:])}
    args.out.with_suffix(".json").write_text(json.dumps({**meta, "runs": results}, indent=1))
    head = (f"# Attenuation limit sweep on `{args.split}` (mean improvement over the input)\n\n"
            f"`{meta['command']}`\n\n")
    args.out.with_suffix(".md").write_text(head + table(results))
    print(table(results))


if __name__ == "__main__":
    main()
