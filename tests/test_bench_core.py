"""The benchmark scripts in metrics/ run (`--quick`, tiny sizes) and write what their README
tables are built from: JSON with the expected keys, finite numbers, and a Markdown table that
names its command. These check the scripts' correctness, not the speed they measure.

sepssl's STFT / iSTFT perfect reconstruction is tested in test_dsp.py and streamed-vs-whole-file
agreement in test_enhance.py; they are not repeated here.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow   # each test runs a benchmark script in a fresh process


def run_quick(script: str, out: Path, *extra: str) -> dict:
    """Run metrics/<script> --quick --out <out>; returns {output name: parsed JSON}."""
    res = subprocess.run([sys.executable, str(ROOT / "metrics" / script), "--quick",
                          "--out", str(out), *extra], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    found = {}
    for path in out.glob("*.json"):
        md = path.with_suffix(".md").read_text()
        assert f"--quick --out {out}" in md and "nproc" in md and "| " in md
        found[path.stem] = json.loads(path.read_text())
    return found


def finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def check_meta(meta: dict) -> None:
    for key in ("command", "date", "nproc", "cpu", "torch_threads"):
        assert key in meta, key
    assert meta["nproc"] >= 1 and meta["torch_threads"] >= 1


def test_bench_stft(tmp_path):
    data = run_quick("bench_stft.py", tmp_path, "--threads", "1")["stft"]
    check_meta(data["meta"])
    cases = [row["case"] for row in data["timing"]]
    assert len(cases) == 5 and len(set(cases)) == 5
    for row in data["timing"]:
        assert finite(row["sepssl_ms"], row["asteroid_ms"], row["ratio_asteroid_over_sepssl"])
        assert row["sepssl_ms"] > 0 and row["asteroid_ms"] > 0
    ours, theirs = data["reconstruction"]["sepssl"], data["reconstruction"]["asteroid"]
    assert ours.keys() == theirs.keys() >= {"max_abs_err", "max_abs_err_first_512",
                                            "max_abs_err_last_512", "max_abs_err_interior"}
    assert ours["max_abs_err"] < 1e-4 and ours["samples_err_over_1e-4"] == 0
    # asteroid's pair is exact between the edges and wrong at them (no padding)
    assert theirs["max_abs_err_interior"] < 1e-4 < theirs["max_abs_err_first_512"]


def test_bench_streaming(tmp_path):
    data = run_quick("bench_streaming.py", tmp_path, "--threads", "1")["streaming"]
    check_meta(data["meta"])
    methods = {row["method"] for row in data["rows"]}
    assert methods == {"streamed", "whole"}
    for row in data["rows"]:
        for key in ("enhance_s", "process_s", "peak_rss_mib", "seconds_per_audio_minute",
                    "x_real_time"):
            assert finite(row[key]) and row[key] > 0, key
        assert row["process_s"] >= row["enhance_s"]
        assert 50 < row["peak_rss_mib"] < 64 * 1024  # a real process's own peak, in MiB
    summary = data["summary"]
    assert finite(summary["streamed_min_x_real_time"], *summary["streamed_peak_rss_mib_range"])
    assert list(summary["streamed_seconds_per_audio_minute"]) == ["0.1"]
    (comp,) = data["comparison"].values()
    assert finite(comp["streamed_vs_whole_rel_error_db"], comp["whole_over_streamed_time"])
    assert comp["streamed_vs_whole_max_abs_diff"] == 0  # a 6 s file is one chunk: same samples
    if "si_sdr_input_db" in comp:  # with a corpus: scored against its tiled clean speech
        assert comp["si_sdr_streamed_db"] == comp["si_sdr_whole_db"]
        assert finite(comp["si_sdr_input_db"], comp["si_sdr_streamed_db"])


def test_bench_scoring(tmp_path):
    data = run_quick("bench_scoring.py", tmp_path)["scoring"]
    check_meta(data["meta"])
    par, pp = data["parallel"], data["per_pair"]
    assert finite(par["jobs1_s"], par["jobs2_s"], par["speedup"])
    assert par["pairs_scored_ok"] == data["meta"]["pairs"]
    assert par["max_abs_score_diff_jobs1_vs_jobs2"] < 1e-9
    assert finite(pp["sepssl_s"], pp["asteroid_s"], pp["ratio_asteroid_over_sepssl"])
    # the same metrics from the same libraries: sepssl and asteroid agree
    assert set(pp["max_abs_score_diff"]) == {"pesq", "stoi", "si_sdr", "input_pesq",
                                              "input_stoi", "input_si_sdr"}
    assert all(v < 1e-3 for v in pp["max_abs_score_diff"].values()), pp["max_abs_score_diff"]


def test_bench_mixing(tmp_path):
    data = run_quick("bench_mixing.py", tmp_path, "--threads", "1")["mixing"]
    check_meta(data["meta"])
    res = data["result"]
    assert finite(res["make_batch_s"], res["step_s"], res["share_percent"])
    assert 0 < res["make_batch_s"] < res["step_s"]
    assert 0 < res["share_percent"] < 100
    assert set(res["parts_s"]) == {"make_batch", "forward + loss", "backward", "clip + Adam step"}
    assert data["meta"]["task"]["name"] == "noisy_target"


def test_bench_mixit(tmp_path):
    data = run_quick("bench_mixit.py", tmp_path)["mixit"]
    assert finite(data["sepssl_s"], data["asteroid_s"], data["speedup"], data["memory_ratio"])
    assert data["max_rel_value_diff"] < 1e-5  # same loss as asteroid's wrapper
    assert 0 <= data["efficient_agrees_with_exact"] <= 1
    assert data["machine"]["nproc"] >= 1


def test_bench_train_throughput(tmp_path):
    data = run_quick("bench_train_throughput.py", tmp_path)["train_throughput"]
    check_meta(data["meta"])
    rows = data["settings"]
    assert set(rows) == {"2/fp32", "2/bf16", "4/fp32", "4/bf16"}
    assert all(finite(r["step_s"], r["audio_seconds_per_second"]) and r["step_s"] > 0
               for r in rows.values())
    best = data["best"]
    assert best["audio_seconds_per_second"] == max(r["audio_seconds_per_second"] for r in rows.values())
    assert data["profile_top"] and all(0 < r["share"] <= 1 for r in data["profile_top"])
    assert data["meta"]["device_name"] == "cpu"


def test_bench_enhance_device(tmp_path):
    import numpy as np
    import soundfile as sf

    files = tmp_path / "files"
    files.mkdir()
    rng = np.random.default_rng(0)
    for i, rate in enumerate((16000, 44100)):
        sf.write(files / f"{i}.wav", 0.1 * rng.standard_normal(rate).astype("float32"), rate)
    data = run_quick("bench_enhance_device.py", tmp_path / "out", "--files", str(files))
    data = data["enhance_device"]
    check_meta(data["meta"])
    assert data["meta"]["files"] == 2 and data["meta"]["seconds_of_audio"] == 2.0
    assert finite(data["median_s"], data["times_real_time"]) and data["times_real_time"] > 0
