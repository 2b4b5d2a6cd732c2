"""Scoring speed of `sepssl evaluate` (`sepssl.evaluation.evaluate`, what the CLI calls), on
synthetic pairs of 4 s at 16 kHz (harmonic speech-like signal, noise at −5…15 dB SNR, and an
"estimate" with the noise attenuated by 10 dB).

(a) Parallel scaling: the whole evaluation (PESQ, STOI, ESTOI, SI-SDR of the estimate and of
    the noisy input for every pair, plus the report files the CLI writes) with jobs=1 against
    jobs=2, interleaved repeats; the target is ≥ 1.7× on 2 cores.
(b) Per-pair cost against asteroid's `asteroid.metrics.get_metrics(mix, clean, est,
    metrics_list=['si_sdr', 'pesq', 'stoi'])`, one pair after another. Both read the three
    files and score the input (mixture) and the estimate against the reference; asteroid has no
    ESTOI, so sepssl is timed on the same three metrics (and, in a third column, on its
    default four). The scores of both are compared, so the table also says they agree.

    python metrics/bench_scoring.py [--pairs 200] [--repeats 2] [--compare-pairs 20]

Why: scoring is sepssl's own code (pairing, failure handling, a process pool) around the
`pesq` and `pystoi` libraries; this checks that the pool pays and that the wrapping costs
nothing against the library a user would otherwise call.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads: asteroid single-threaded like sepssl

import argparse
import datetime
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from sepssl.evaluation import DEFAULT_METRICS, evaluate
from benchlib import command, machine  # noqa: E402

RATE = 16000


def make_pairs(root: Path, n: int, seconds: float, seed: int = 0) -> list[str]:
    """clean/, noisy/, est/ with n files each; returns the file names."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    names = []
    for i in range(n):
        pitch = rng.uniform(90, 220) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5) * t))
        phase = 2 * np.pi * np.cumsum(pitch) / RATE
        voiced = sum(np.sin(k * phase) * rng.uniform(0.3, 1) / k for k in range(1, 16))
        syllables = np.maximum(np.sin(2 * np.pi * rng.uniform(2.5, 5) * t + rng.uniform(0, 6)), 0)
        clean = voiced * syllables ** 1.5
        clean *= 0.2 / np.abs(clean).max()
        noise = np.cumsum(rng.standard_normal(t.size)) * 0.02 + rng.standard_normal(t.size)
        noise -= noise.mean()
        snr = rng.uniform(-5, 15)
        noise *= np.sqrt(np.mean(clean ** 2) / np.mean(noise ** 2) / 10 ** (snr / 10))
        name = f"p{i:03d}.wav"
        est = clean + noise / np.sqrt(10)
        for sub, x in (("clean", clean), ("noisy", clean + noise), ("est", est)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            sf.write(root / sub / name, np.clip(x, -1, 1), RATE, subtype="PCM_16")
        names.append(name)
    return names


def asteroid_pair(root: Path, name: str) -> dict:
    from asteroid.metrics import get_metrics

    mix, clean, est = (sf.read(root / sub / name, dtype="float64")[0]
                       for sub in ("noisy", "clean", "est"))
    return get_metrics(mix, clean, est, sample_rate=RATE, metrics_list=["si_sdr", "pesq", "stoi"])


def sepssl_pair(root: Path, name: str, metrics) -> dict:
    res = evaluate(root / "clean" / name, root / "est" / name, root / "noisy" / name, jobs=1,
                   progress=False, metrics=metrics)
    return res.rows[0]


def evaluate_folders(root: Path, jobs: int):
    """What `sepssl evaluate --ref clean --est est --noisy noisy --report ... --jobs N` runs."""
    return evaluate(root / "clean", root / "est", root / "noisy", report_dir=root / f"report{jobs}",
                    jobs=jobs, progress=False)


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=200)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--compare-pairs", type=int, default=20)
    p.add_argument("--quick", action="store_true", help="4 pairs of 2 s, 1 repeat (for tests)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    a = p.parse_args()
    if a.quick:
        a.pairs, a.seconds, a.repeats, a.compare_pairs = 4, 2.0, 1, 2
    import asteroid.metrics  # noqa: F401  (imported before timing)

    torch.set_num_threads(1)

    meta = {"command": command(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            **machine(), "pairs": a.pairs, "seconds": a.seconds, "repeats": a.repeats,
            "compare_pairs": a.compare_pairs}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = make_pairs(root, a.pairs, a.seconds)

        # (a) jobs=1 vs jobs=2, whole evaluations, interleaved
        walls: dict[int, list[float]] = {1: [], 2: []}
        rows = {}
        for r in range(a.repeats):
            for jobs in ((1, 2) if r % 2 == 0 else (2, 1)):
                wall, res = timed(evaluate_folders, root, jobs)
                walls[jobs].append(wall)
                rows[jobs], failures = res.rows, res.summary["failure_text"]
                print(f"evaluate jobs={jobs}: {wall:.1f} s", flush=True)
        keys = [k for m in DEFAULT_METRICS for k in (m, f"{m}_input")]
        jobs_diff = float(np.nanmax([abs(x[k] - y[k])
                                     for x, y in zip(rows[1], rows[2]) for k in keys]))
        scored = sum(row["status"] == "ok" for row in rows[2])

        # (b) per pair, sequential: sepssl (asteroid's metric set, and its default set) vs asteroid
        per: dict[str, list[float]] = {"sepssl": [], "sepssl_default": [], "asteroid": []}
        diffs: dict[str, list[float]] = {}
        for i, name in enumerate(names[: a.compare_pairs]):
            order = ["sepssl", "asteroid", "sepssl_default"]
            for who in order if i % 2 == 0 else order[::-1]:
                if who == "asteroid":
                    sec, ast = timed(asteroid_pair, root, name)
                else:
                    metrics = ("pesq", "stoi", "si_sdr")
                    metrics += ("estoi",) if who == "sepssl_default" else ()
                    sec, row = timed(sepssl_pair, root, name, metrics)
                    if who == "sepssl":
                        ours = row
                per[who].append(sec)
            for m in ("pesq", "stoi", "si_sdr"):
                diffs.setdefault(m, []).append(abs(ours[m] - ast[m]))
                diffs.setdefault(f"input_{m}", []).append(abs(ours[f"{m}_input"] - ast[f"input_{m}"]))
    meta["load_avg_1min_end"] = round(os.getloadavg()[0], 2)

    med = {j: statistics.median(w) for j, w in walls.items()}
    parallel = {"jobs1_s": med[1], "jobs2_s": med[2], "speedup": med[1] / med[2],
                "target": 1.7, "met": med[1] / med[2] >= 1.7, "all_s": walls,
                "max_abs_score_diff_jobs1_vs_jobs2": jobs_diff, "pairs_scored_ok": scored,
                "failures": failures}
    pp = {who: statistics.median(x) for who, x in per.items()}
    per_pair = {"sepssl_s": pp["sepssl"], "asteroid_s": pp["asteroid"],
                "sepssl_default_metrics_s": pp["sepssl_default"],
                "ratio_asteroid_over_sepssl": pp["asteroid"] / pp["sepssl"],
                "max_abs_score_diff": {k: max(v) for k, v in diffs.items()}}

    table = ["| measurement | sepssl | alternative | ratio |", "|---|---:|---:|---:|",
             f"| (a) `evaluate` on {a.pairs} pairs × {a.seconds:g} s, wall (s): jobs=2 vs jobs=1 | "
             f"{med[2]:.1f} | {med[1]:.1f} (jobs=1) | {parallel['speedup']:.2f}× |",
             f"| (b) per pair, PESQ + STOI + SI-SDR of input and estimate (s) | "
             f"{pp['sepssl']:.3f} | {pp['asteroid']:.3f} (asteroid `get_metrics`) | "
             f"{per_pair['ratio_asteroid_over_sepssl']:.2f}× |",
             f"| (b) per pair, sepssl's default set (adds ESTOI) (s) | "
             f"{pp['sepssl_default']:.3f} | | |"]
    agree = ", ".join(f"{k} {v:.2g}" for k, v in per_pair["max_abs_score_diff"].items())
    md = (f"# Scoring: `sepssl evaluate` with 1 and 2 jobs, and per pair against asteroid\n\n"
          f"Command: `{meta['command']}`  \nDate: {meta['date']}  \n"
          f"Machine: nproc {meta['nproc']}, {meta['cpu']}, torch {meta['torch']}, "
          f"torch threads: {meta['torch_threads']}; 1-min load average {meta['load_avg_1min']} "
          f"at start, "
          f"{meta['load_avg_1min_end']} at the end (a shared machine)\n\n"
          f"Synthetic 16 kHz pairs (harmonic speech-like signal; noise at −5…15 dB SNR; estimate ="
          f" clean + noise at −10 dB). (a) medians of {a.repeats} interleaved runs each of the "
          f"whole `evaluate(..., report_dir=...)` call the CLI makes (PESQ wb, STOI, ESTOI, SI-SDR "
          f"of estimate and noisy input; report files written); ratio = jobs=1 time / jobs=2 time "
          f"(target ≥ 1.7×). Scores with 2 jobs equal those with 1 to "
          f"{jobs_diff:.1g}; {scored}/{a.pairs} pairs scored without failures"
          f"{' (' + '; '.join(failures) + ')' if failures else ''}. (b) medians over "
          f"{a.compare_pairs} pairs, one at a time, the three methods interleaved; each reads the "
          f"three files and scores input and estimate (asteroid: `input_*` and plain keys; sepssl:"
          f" `*_input` and plain columns). Everything runs single-threaded (sepssl's "
          f"`evaluate` pins torch/BLAS to 1 thread per process; this script sets the same for "
          f"asteroid). Ratio = asteroid / sepssl (above 1: sepssl "
          f"faster). Largest score differences sepssl vs asteroid: {agree}.\n\n"
          + "\n".join(table) + "\n")
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "scoring.json").write_text(json.dumps(
        {"meta": meta, "parallel": parallel, "per_pair": per_pair, "per_pair_all_s": per},
        indent=2))
    (a.out / "scoring.md").write_text(md)
    print("\n".join(table))
    assert all(math.isfinite(v) for v in per_pair["max_abs_score_diff"].values())


if __name__ == "__main__":
    main()
