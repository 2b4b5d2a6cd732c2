"""Long-file enhancement: wall time, real-time factor and peak memory of `sepssl enhance`
on 1-, 10- and 60-minute files (16 kHz mono PCM_16), each in a fresh process.

    python metrics/bench_streaming.py [--minutes 1 10 60] [--model default] [--threads 2]

Writes metrics/streaming.json and metrics/streaming.md. The long inputs are made by tiling the
corpus's noisy test files (or synthetic noisy tones when no corpus is given), written block by
block, so building them does not need the whole file in memory either.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent


def make_long_file(path: Path, minutes: float, sources: list[Path], rate: int = 16000) -> None:
    total = int(minutes * 60 * rate)
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as out:
        written, i = 0, 0
        rng = np.random.default_rng(0)
        while written < total:
            if sources:
                block, _ = sf.read(sources[i % len(sources)], dtype="float32")
            else:
                t = np.arange(4 * rate) / rate
                block = (0.1 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
                         + 0.03 * rng.standard_normal(t.size)).astype(np.float32)
            block = block[: total - written]
            out.write(block)
            written += block.size
            i += 1


def run_enhance(src: Path, out_dir: Path, model: str, threads: int) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "sepssl.cli", "enhance", "-q", str(src),
           "-o", str(out_dir), "--model", model, "--threads", str(threads)]
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"enhance failed on {src}:\n{res.stderr[-2000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1))
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(rss_kb / 1024, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    p.add_argument("--model", default="default")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    a = p.parse_args()
    sources = sorted((a.corpus / "test" / "noisy").glob("*.wav")) if a.corpus.is_dir() else []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for minutes in a.minutes:
            src = tmp / f"long_{minutes:g}min.wav"
            make_long_file(src, minutes, sources)
            result = run_enhance(src, tmp / "out", a.model, a.threads)
            out_info, in_info = sf.info(tmp / "out" / src.name), sf.info(src)
            assert out_info.frames == in_info.frames and out_info.samplerate == in_info.samplerate
            audio_s = in_info.frames / in_info.samplerate
            rows.append({"minutes": minutes, **result,
                         "x_real_time": round(audio_s / result["wall_s"], 1)})
            print(rows[-1], flush=True)
            (tmp / "out" / src.name).unlink()
            src.unlink()
    meta = {"command": "python " + " ".join(sys.argv), "machine": platform.processor() or platform.machine(),
            "threads": a.threads, "model": a.model,
            "note": "wall time includes process start and model loading (about 3 s)"}
    (HERE / "streaming.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = ["| file length | wall time (s) | × real time | peak RSS (MiB) |", "|---|---:|---:|---:|"]
    lines += [f"| {r['minutes']:g} min | {r['wall_s']} | {r['x_real_time']} | {r['peak_rss_mib']} |" for r in rows]
    (HERE / "streaming.md").write_text(
        f"`{meta['command']}` ({a.threads} CPU threads; {meta['note']})\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
