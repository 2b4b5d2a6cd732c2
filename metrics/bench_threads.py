"""Training speed by torch thread count: what `sepssl train --threads` should default to.

Each run is a fresh `sepssl train noisy_target` process of `--steps` steps (no validation) with
`--threads 1` or `--threads 2`, on an otherwise idle machine and beside one busy process (a
pure-Python loop on one core, the lightest stand-in for a second job); thread counts are
interleaved within each condition. Speed is steps / the run's own training seconds (the model
card's `train_seconds_this_run`, so interpreter start and imports are left out); medians.

    python metrics/bench_threads.py --corpus corpus [--steps 60] [--repeats 2]

Writes metrics/threads.json and metrics/threads.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import command, machine  # noqa: E402

BUSY = "while True: pass"


def run_once(corpus: Path, threads: int, steps: int, out: Path) -> float:
    args = [sys.executable, "-m", "sepssl.cli", "train", "noisy_target", "-q",
            "--threads", str(threads),
            "--set", f"data.train_speech={corpus}/train/noisy",
            "--set", f"data.train_noise={corpus}/train/noise", "--set", "data.valid=null",
            "--set", f"trainer.out_dir={out}", "--set", f"trainer.max_steps={steps}",
            "--set", "trainer.max_minutes=null", "--set", "trainer.val_every_steps=100000"]
    subprocess.run(args, check=True, capture_output=True)
    card = json.loads((out / "model_card.json").read_text())
    return steps / card["train_seconds_this_run"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = ap.parse_args()
    info = machine(threads=None)
    results: dict[str, dict[int, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for condition in ("idle", "beside one busy process"):
            busy = (subprocess.Popen([sys.executable, "-c", BUSY])
                    if condition != "idle" else None)
            try:
                runs = results.setdefault(condition, {1: [], 2: []})
                for rep in range(args.repeats):
                    for threads in (1, 2):
                        out = Path(tmp) / f"{condition[:4]}_{threads}_{rep}"
                        runs[threads].append(run_once(args.corpus, threads, args.steps, out))
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    info["load_avg_1min_end"] = machine(threads=1)["load_avg_1min"]
    lines = ["# Training speed by torch thread count", "",
             f"Command: `{command()}`  ",
             f"Date: {datetime.datetime.now().isoformat(timespec='seconds')}  ",
             f"Machine: nproc {info['nproc']}, {info['cpu']}; 1-min load average "
             f"{info['load_avg_1min']} at start, {info['load_avg_1min_end']} at the end",
             "", f"`sepssl train noisy_target`, {args.steps} steps (batch 16 × 3 s, masker), fresh "
             f"processes, thread counts interleaved, medians of {args.repeats}; steps per second "
             "of training (start-up excluded).", "",
             "| condition | 1 thread (steps/s) | 2 threads (steps/s) | 2 threads ÷ 1 thread |",
             "|---|---:|---:|---:|"]
    table = {}
    for condition, runs in results.items():
        one, two = statistics.median(runs[1]), statistics.median(runs[2])
        table[condition] = {"1": runs[1], "2": runs[2], "median_1": one, "median_2": two}
        lines.append(f"| {condition} | {one:.2f} | {two:.2f} | {two / one:.2f} |")
    (args.out / "threads.json").write_text(json.dumps({"command": command(), "machine": info,
                                                        "steps": args.steps, "results": table},
                                                       indent=2) + "\n")
    (args.out / "threads.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
