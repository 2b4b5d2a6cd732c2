"""Startup and memory of `sepssl enhance` on one short file, as a user's first command pays them.

Each run is a fresh process (`python -c`, one torch thread) that enhances one 3 s file with the
shipped model: its wall time from start to exit, and its peak RSS (VmHWM, read by the process
itself at the end). Beside it, the same command with Lightning imported first (what every
`sepssl` command paid before enhance stopped importing it), and a bare `import torch` process
as the floor. The three are interleaved over the repeats; medians.

    python metrics/bench_startup.py [--repeats 7]

Writes metrics/startup.json and metrics/startup.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from benchlib import command, machine  # noqa: E402

PEAK = ("import re; print('VmHWM', re.search(r'VmHWM:\\s+(\\d+)', "
        "open('/proc/self/status').read())[1])")
ENHANCE = ("import torch; torch.set_num_threads(1); from sepssl.cli import main; "
           "main(['enhance', {inp!r}, '-o', {out!r}, '-q', '--overwrite', '--threads', '1']); ")
VARIANTS = {
    "sepssl enhance (this version)": ENHANCE,
    "sepssl enhance with Lightning imported first": "import lightning.pytorch; " + ENHANCE,
    "import torch only (the floor)": "import torch; ",
}


def run_once(code: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code + PEAK], capture_output=True, text=True,
                         check=True).stdout
    wall = time.perf_counter() - t0
    kib = int(out.split("VmHWM")[-1].split()[0])
    return wall, kib / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = ap.parse_args()
    info = machine(threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        inp = str(Path(tmp) / "short.wav")
        x = 0.1 * np.random.default_rng(0).standard_normal(3 * 16000).astype("float32")
        sf.write(inp, x, 16000, subtype="PCM_16")
        codes = {k: v.format(inp=inp, out=str(Path(tmp) / "out")) for k, v in VARIANTS.items()}
        runs = {k: [] for k in codes}
        for _ in range(args.repeats):
            for name, code in codes.items():
                runs[name].append(run_once(code))
    info["load_avg_1min_end"] = machine(threads=1)["load_avg_1min"]
    rows = {k: {"wall_s": statistics.median(w for w, _ in v),
                "peak_rss_mib": statistics.median(m for _, m in v),
                "walls": [round(w, 3) for w, _ in v]} for k, v in runs.items()}
    base = rows["sepssl enhance (this version)"]["wall_s"]
    lines = ["# Startup and memory of `sepssl enhance` on one 3 s file", "",
             f"Command: `{command()}`  ", f"Date: {datetime.datetime.now().isoformat(timespec='seconds')}  ",
             f"Machine: nproc {info['nproc']}, {info['cpu']}, torch threads 1; 1-min load average "
             f"{info['load_avg_1min']} at start, {info['load_avg_1min_end']} at the end (a shared machine)",
             "", f"Fresh processes, interleaved, medians of {args.repeats}; wall time from start to "
             "exit, peak RSS (VmHWM).", "",
             "| process | wall (s) | × this version | peak RSS (MiB) |", "|---|---:|---:|---:|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['wall_s']:.2f} | {r['wall_s'] / base:.2f} | "
                     f"{r['peak_rss_mib']:.0f} |")
    (args.out / "startup.json").write_text(json.dumps({"command": command(), "machine": info,
                                                        "rows": rows}, indent=2) + "\n")
    (args.out / "startup.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
