"""Long files: time, real-time factor and peak memory of `sepssl enhance`'s streaming core
(`sepssl.enhance.enhance_file`, the function the CLI calls per file) with the shipped default
model on 1-, 10- and 60-minute files (16 kHz mono PCM_16), against the obvious alternative:
read the whole file, run the model once over it, write it.

Why: enhance_file reads, enhances and writes in 10 s chunks (batched 8 at a time), so its time
should grow linearly with the file's length (constant seconds per audio minute) while its
memory stays flat; whole-file processing needs memory in proportion to the length. Each run is
a fresh process (its peak RSS, VmHWM, is that run's own); methods and sizes are interleaved
over the repeats. The table also gives how far the streamed output is from the whole-file one
(the chunks are cross-faded, so only the 1 s overlaps can differ).

    python metrics/bench_streaming.py [--minutes 1 10 60] [--whole-up-to 10] [--repeats 2]

Writes metrics/streaming.json and metrics/streaming.md. The long inputs tile the corpus's noisy
test files (synthetic noisy tones without a corpus), written block by block.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from benchlib import command, machine  # noqa: E402

RATE = 16000


def make_long_file(path: Path, minutes: float, sources: list[Path]) -> None:
    total = int(minutes * 60 * RATE)
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=RATE, channels=1, subtype="PCM_16") as out:
        written, i = 0, 0
        while written < total:
            if sources:
                block, _ = sf.read(sources[i % len(sources)], dtype="float32")
            else:
                t = np.arange(4 * RATE) / RATE
                block = (0.1 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
                         + 0.03 * rng.standard_normal(t.size)).astype(np.float32)
            block = block[: total - written]
            out.write(block)
            written += block.size
            i += 1


def child(method: str, src: str, dst: str, threads: int) -> None:
    """One enhancement in this (fresh) process; prints its timings as JSON."""
    import torch

    import sepssl
    from sepssl import audio
    from sepssl.enhance import enhance_file

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model = sepssl.load_model("default")
    t1 = time.perf_counter()
    if method == "streamed":
        enhance_file(model, src, dst)
    else:  # whole file: one read, one forward pass (+ the model's attenuation limit), one write
        from sepssl.dsp.mixing import limit_attenuation

        wav, rate = audio.read(src)
        with torch.no_grad():
            out = limit_attenuation(model(wav), wav, model.atten_lim_db)
        audio.write(dst, out, rate, subtype=sf.info(src).subtype)
    seconds = time.perf_counter() - t1
    print(json.dumps({"load_s": t1 - t0, "enhance_s": seconds, "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started (VmHWM; getrusage's ru_maxrss
    would also count the parent's pages at fork time)."""
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return kib / 1024


def run_child(method: str, src: Path, dst: Path, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--child", method, str(src), str(dst),
           "--threads", str(threads)]
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"{method} enhancement of {src} failed:\n{res.stderr[-3000:]}")
    out_info, in_info = sf.info(dst), sf.info(src)
    assert (out_info.frames, out_info.samplerate) == (in_info.frames, in_info.samplerate)
    return {**json.loads(res.stdout.strip().splitlines()[-1]), "process_s": wall}


def si_sdr(est: np.ndarray, ref: np.ndarray) -> float:
    est, ref = est - est.mean(), ref - ref.mean()
    target = ref * (est @ ref) / (ref @ ref)
    return float(10 * np.log10((target @ target) / ((est - target) @ (est - target))))


def compare(src: Path, outs: dict[str, Path], clean: Path | None) -> dict:
    """SI-SDR of input and outputs against the tiled clean speech (when there is one), and how
    far the streamed output is from the whole-file one."""
    read = lambda path: sf.read(path, dtype="float64")[0]  # noqa: E731
    x = {"input": read(src), **{k: read(v) for k, v in outs.items()}}
    found = {}
    if clean is not None:
        ref = read(clean)
        found = {f"si_sdr_{k}_db": si_sdr(v, ref) for k, v in x.items()}
    if "whole" in x:
        d, w = x["streamed"] - x["whole"], x["whole"]
        found["streamed_vs_whole_rel_error_db"] = float(10 * np.log10(max(d @ d / (w @ w), 1e-20)))
        found["streamed_vs_whole_max_abs_diff"] = float(np.abs(d).max())
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    p.add_argument("--whole-up-to", type=float, default=10,
                   help="run the whole-file alternative on files up to this many minutes")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1: the machine is shared; see metrics/README.md)")
    p.add_argument("--corpus", type=Path,
                   default=Path(__file__).resolve().parent.parent / "corpus")
    p.add_argument("--quick", action="store_true", help="one 6 s file, 1 repeat (for tests)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    p.add_argument("--child", nargs=3, metavar=("METHOD", "SRC", "DST"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return child(*a.child, a.threads)
    if a.quick:
        a.minutes, a.whole_up_to, a.repeats = [0.1], 1.0, 1
    sources = sorted((a.corpus / "test" / "noisy").glob("*.wav")) if a.corpus.is_dir() else []
    cleans = [a.corpus / "test" / "clean" / f.name for f in sources]
    cleans = cleans if sources and all(f.is_file() for f in cleans) else []
    meta = {"command": command(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            **machine(a.threads), "model": "default (sepssl/pretrained/default.pt)",
            "repeats": a.repeats, "input": "corpus test noisy files, tiled" if sources else
            "synthetic noisy tones", "chunk_seconds": 10.0, "batch_chunks": 8}
    runs: dict[tuple[float, str], list[dict]] = {}
    diffs = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        srcs = {m: tmp / f"long_{m:g}min.wav" for m in a.minutes}
        refs = {m: tmp / f"clean_{m:g}min.wav" for m in a.minutes} if cleans else {}
        for m, src in srcs.items():
            make_long_file(src, m, sources)
            if cleans:
                make_long_file(refs[m], m, cleans)
        for r in range(a.repeats):
            for m, src in srcs.items():
                methods = ["streamed"] + (["whole"] if m <= a.whole_up_to else [])
                for method in methods if r % 2 == 0 else methods[::-1]:
                    dst = tmp / f"{method}_{m:g}.wav"
                    res = run_child(method, src, dst, a.threads)
                    runs.setdefault((m, method), []).append(res)
                    print(f"{m:g} min {method}: "
                          + ", ".join(f"{k} {v:.1f}" for k, v in res.items()), flush=True)
                if r == 0:
                    outs = {k: tmp / f"{k}_{m:g}.wav" for k in methods}
                    diffs[m] = compare(src, outs, refs.get(m))
                for method in methods:
                    (tmp / f"{method}_{m:g}.wav").unlink()
    meta["load_avg_1min_end"] = round(os.getloadavg()[0], 2)

    rows = []
    for (m, method), res in runs.items():
        med = {k: statistics.median(x[k] for x in res) for k in res[0]}
        rows.append({"minutes": m, "method": method, **med,
                     "seconds_per_audio_minute": med["enhance_s"] / m,
                     "x_real_time": m * 60 / med["enhance_s"],
                     "x_real_time_process": m * 60 / med["process_s"], "runs": res})
    rows.sort(key=lambda row: (row["minutes"], row["method"] != "streamed"))
    by = {(row["minutes"], row["method"]): row for row in rows}
    for m, d in diffs.items():
        if (m, "whole") in by:  # how much more the whole-file alternative takes
            whole, streamed = by[m, "whole"], by[m, "streamed"]
            d["whole_over_streamed_time"] = whole["enhance_s"] / streamed["enhance_s"]
            d["whole_over_streamed_rss"] = whole["peak_rss_mib"] / streamed["peak_rss_mib"]
    streamed = [row for row in rows if row["method"] == "streamed"]
    summary = {"streamed_seconds_per_audio_minute": {f"{r['minutes']:g}": r["seconds_per_audio_minute"]
                                                     for r in streamed},
               "streamed_min_x_real_time": min(r["x_real_time"] for r in streamed),
               "streamed_peak_rss_mib_range": [min(r["peak_rss_mib"] for r in streamed),
                                               max(r["peak_rss_mib"] for r in streamed)]}

    table = ["| file | method | enhance (s) | s per audio min | × real time | process (s) | "
             "peak RSS (MiB) | SI-SDR out (in) dB | streamed − whole |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        d = diffs.get(row["minutes"], {})
        key = f"si_sdr_{row['method']}_db"
        sdr = f"{d[key]:.2f} ({d['si_sdr_input_db']:.2f})" if key in d else ""
        gap = "" if row["method"] != "whole" else (
            "identical" if d["streamed_vs_whole_max_abs_diff"] == 0 else
            f"{d['streamed_vs_whole_rel_error_db']:.1f} dB, "
            f"max abs {d['streamed_vs_whole_max_abs_diff']:.2f}")
        table.append(f"| {row['minutes']:g} min | {row['method']} | {row['enhance_s']:.1f} | "
                     f"{row['seconds_per_audio_minute']:.2f} | {row['x_real_time']:.0f} | "
                     f"{row['process_s']:.1f} | {row['peak_rss_mib']:.0f} | {sdr} | {gap} |")
    skipped = [m for m in a.minutes if m > a.whole_up_to]
    md = (f"# Long files: streamed `enhance_file` vs whole-file processing\n\n"
          f"Command: `{meta['command']}`  \nDate: {meta['date']}  \n"
          f"Machine: nproc {meta['nproc']}, {meta['cpu']}, torch threads: {a.threads}; 1-min "
          f"load average {meta['load_avg_1min']} at start, {meta['load_avg_1min_end']} at the end "
          f"(a shared machine)\n\n"
          f"Default model; input: {meta['input']}, 16 kHz mono PCM_16. Medians of {a.repeats} "
          f"interleaved runs, each a fresh process. *enhance* is the enhancement call alone "
          f"(read, model, write); *process* adds interpreter start, imports and model loading; "
          f"× real time = audio seconds / enhance seconds; peak RSS is the process's maximum "
          f"resident memory (VmHWM, read by the process itself). SI-SDR is over the whole file "
          f"against the clean speech tiled the same way (input in brackets). The last column is "
          f"the energy of streamed − whole "
          f"relative to the whole-file output, and the largest sample difference."
          + (f" Whole-file processing was not run on the {', '.join(f'{m:g}' for m in skipped)}-min "
             f"file(s) (`--whole-up-to {a.whole_up_to:g}`)." if skipped else "")
          + "\n\n" + "\n".join(table) + "\n\nStreamed: seconds per audio minute "
          + " / ".join(f"{v:.2f}" for v in summary["streamed_seconds_per_audio_minute"].values())
          + f" ({' / '.join(summary['streamed_seconds_per_audio_minute'])} min); at least "
          f"{summary['streamed_min_x_real_time']:.0f}× real time; peak RSS "
          f"{summary['streamed_peak_rss_mib_range'][0]:.0f}–"
          f"{summary['streamed_peak_rss_mib_range'][1]:.0f} MiB over all lengths.\n")
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "streaming.json").write_text(json.dumps(
        {"meta": meta, "summary": summary, "rows": rows,
         "comparison": {f"{m:g}": d for m, d in diffs.items()}}, indent=2))
    (a.out / "streaming.md").write_text(md)
    print("\n".join(table))


if __name__ == "__main__":
    main()
