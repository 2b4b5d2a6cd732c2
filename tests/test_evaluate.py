"""sepssl.evaluation on tiny generated audio (harmonic, syllable-modulated tones:
enough like speech for PESQ's voice activity detection)."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pesq as pesqlib
import pytest
import torch

from sepssl import audio
from sepssl.errors import DataError, SepsslError
from sepssl.evaluation import (
    DEFAULT_METRICS, EvaluationResult, dnsmos_available, evaluate, pair_files, pesq_reason,
    pesq_value, score_pair,
)

SR = 16000
EVIL = "<script>alert(1)</script>.wav"  # a folder '<script>alert(1)<' holding 'script>.wav'


def speechy(seed: int = 0, seconds: float = 1.5, rate: int = SR) -> np.ndarray:
    """Voiced, formant-shaped harmonics with a gliding pitch, gated into ~4 syllables/s."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = rng.uniform(100, 180) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = np.zeros_like(t)
    for k in range(1, 40):
        if k * f0.max() > 0.45 * rate:
            break
        amp = sum(np.exp(-((k * f0.mean() - f) / 150) ** 2) for f in (500, 1500, 2500)) + 0.05
        x += amp / np.sqrt(k) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    x *= np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * t + rng.uniform(0, 6)), 0, None) ** 0.7
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def add_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    n = np.random.default_rng(1000 + seed).standard_normal(x.shape).astype(np.float32)
    n *= np.sqrt((x ** 2).mean() / (n ** 2).mean() / 10 ** (snr_db / 10))
    return (x + n).astype(np.float32)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """ref/ est/ noisy/ with normal files, failure cases, unpaired files and an evil name."""
    root = tmp_path_factory.mktemp("eval")
    ref, est, noisy = root / "ref", root / "est", root / "noisy"
    for i, rel in enumerate(["a.wav", "b.wav", "sub/c.wav", EVIL]):
        s = speechy(i)
        audio.write(ref / rel, s, SR)
        audio.write(noisy / rel, add_noise(s, 0.0, i), SR)
        audio.write(est / rel, add_noise(s, 15.0, i), SR)
    s = speechy(9)  # silent reference
    audio.write(ref / "silent_ref.wav", np.zeros_like(s), SR)
    audio.write(est / "silent_ref.wav", s, SR)
    audio.write(noisy / "silent_ref.wav", add_noise(s, 0.0, 9), SR)
    s = speechy(8)  # silent estimate (an enhancer that removed everything)
    audio.write(ref / "silent_est.wav", s, SR)
    audio.write(est / "silent_est.wav", np.zeros_like(s), SR)
    audio.write(noisy / "silent_est.wav", add_noise(s, 0.0, 8), SR)
    s = speechy(10, seconds=0.2)  # under PESQ's 0.25 s
    for d, x in ((ref, s), (est, add_noise(s, 15, 10)), (noisy, add_noise(s, 0, 10))):
        audio.write(d / "short.wav", x, SR)
    s = speechy(11)  # estimate is not audio
    audio.write(ref / "broken.wav", s, SR)
    audio.write(noisy / "broken.wav", add_noise(s, 0, 11), SR)
    (est / "broken.wav").write_bytes(b"this is not a wav file")
    audio.write(ref / "only_ref.wav", speechy(12), SR)
    audio.write(est / "only_est.wav", speechy(13), SR)
    return root


@pytest.fixture(scope="module")
def result(corpus) -> EvaluationResult:
    return evaluate(corpus / "ref", corpus / "est", corpus / "noisy", report_dir=corpus / "report",
                    jobs=1, progress=False)


def by_file(res: EvaluationResult) -> dict:
    return {r["file"]: r for r in res.rows}


# --------------------------------------------------------------------------- score_pair

def test_identical_scores_high_and_noise_lowers_them():
    s = speechy(0)
    same = score_pair(s, s, SR)
    assert same["errors"] == {}
    assert same["pesq"] > 4.0 and same["stoi"] > 0.99 and same["estoi"] > 0.99
    assert same["si_sdr"] > 50
    lighter, heavier = score_pair(s, add_noise(s, 10, 0), SR), score_pair(s, add_noise(s, 0, 0), SR)
    for m in DEFAULT_METRICS:
        assert same[m] > lighter[m] > heavier[m], m
    assert abs(heavier["si_sdr"]) < 1.0  # 0 dB of white noise: SI-SDR ≈ SNR


def test_score_pair_takes_tensors_trims_and_averages_channels():
    s = speechy(1)
    stereo = np.stack([s, add_noise(s, 5, 1)])
    t = score_pair(torch.from_numpy(stereo), torch.from_numpy(stereo[:, :-7]), SR)
    assert t["errors"] == {} and t["si_sdr"] > 50
    noisy = np.stack([add_noise(s, 0, 2), add_noise(s, 0, 3)])
    per_channel = [score_pair(stereo[c], noisy[c], SR)["si_sdr"] for c in range(2)]
    assert score_pair(stereo, noisy, SR)["si_sdr"] == pytest.approx(np.mean(per_channel), abs=1e-4)


@pytest.mark.parametrize("ref, est, reason", [
    ("silent", "speech", "silent reference"),
    ("speech", "silent", "silent estimate"),
])
def test_silence_gives_nan_with_reason(ref, est, reason):
    s = speechy(2)
    pick = {"silent": np.zeros_like(s), "speech": s}
    out = score_pair(pick[ref], pick[est], SR)
    for m in DEFAULT_METRICS:
        assert math.isnan(out[m]) and out["errors"][m] == reason


def test_too_short_gives_nan_with_reason():
    s = speechy(3, seconds=0.2)
    out = score_pair(s, s, SR)
    assert math.isnan(out["pesq"]) and out["errors"]["pesq"] == "too short"
    assert math.isnan(out["stoi"]) and out["errors"]["stoi"] == "too little speech"
    assert out["si_sdr"] > 50  # SI-SDR has no minimum length


def test_pesq_errors_map_to_reasons():
    """The real exceptions of pesq 0.0.4 (bytes messages, plain ValueErrors) and returned ones."""
    s = speechy(4).astype(np.float64)
    cases = {
        "no speech detected in reference": (SR, np.zeros_like(s), s),
        "silent estimate": (SR, s, np.zeros_like(s)),
        "too short": (SR, s[:2000], s[:2000]),
        "unsupported sample rate": (22050, s, s),
    }
    for reason, (fs, ref, deg) in cases.items():
        with pytest.raises(Exception) as info:
            with np.errstate(all="ignore"):
                pesqlib.pesq(fs, ref, deg, "wb")
        assert pesq_reason(info.value) == reason
        value, why = pesq_value(info.value)  # what pesq_batch puts in its result list
        assert math.isnan(value) and why == reason
    assert pesq_value(4.2) == (4.2, None)
    assert math.isnan(pesq_value(-2.0)[0])  # on_error=RETURN_VALUES error code
    assert pesq_reason(pesqlib.PesqError(b"odd failure")) == "pesq error: odd failure"


def test_rates_narrow_band_and_resampling(tmp_path):
    s8 = speechy(5, rate=8000)
    out = score_pair(s8, s8, 8000)
    assert out["errors"] == {} and out["pesq"] > 4.0  # narrow-band P.862 at 8 kHz
    for rate in (22050, 44100):
        s = speechy(6, rate=rate)
        audio.write(tmp_path / f"r{rate}" / "x.wav", s, rate)
        audio.write(tmp_path / f"e{rate}" / "x.wav", add_noise(s, 20, 6), rate)
        res = evaluate(tmp_path / f"r{rate}", tmp_path / f"e{rate}", jobs=1, progress=False)
        row = res.rows[0]
        assert row["pesq_mode"] == "wb" and "pesq resampled" in row["notes"]
        assert 1.0 < row["pesq"] < 4.7 and row["stoi"] > 0.9
    # an estimate at another rate than its reference is resampled to the reference's
    audio.write(tmp_path / "e8k" / "x.wav", audio.resample(torch.from_numpy(speechy(6, rate=22050)),
                                                           22050, 8000), 8000)
    row = evaluate(tmp_path / "r22050" / "x.wav", tmp_path / "e8k" / "x.wav", jobs=1,
                   progress=False).rows[0]
    assert "estimate resampled" in row["notes"] and row["errors"] == {}
    assert row["stoi"] > 0.8


# --------------------------------------------------------------------------- evaluate

def test_pairing_and_unpaired(result, corpus):
    rows = by_file(result)
    assert set(rows) == {"a.wav", "b.wav", "sub/c.wav", EVIL, "silent_ref.wav", "silent_est.wav",
                         "short.wav", "broken.wav"}
    assert {(u["file"], u["missing"]) for u in result.unpaired} == {
        ("only_ref.wav", "estimate"), ("only_est.wav", "reference")}
    f = result.summary["files"]
    # silent_ref / silent_est: no metric of the estimate can be computed, so not scored
    assert (f["paired"], f["unpaired"], f["failed"], f["scored"]) == (8, 2, 3, 5)
    with pytest.raises(DataError, match="pairs"):
        pair_files(corpus / "ref", corpus / "noisy" / "sub")  # an estimate folder sharing nothing
    with pytest.raises(DataError, match="no such file"):
        evaluate(corpus / "ref", corpus / "nope", progress=False)


def test_scores_improvement_and_failures(result):
    rows = by_file(result)
    for name in ("a.wav", "b.wav", "sub/c.wav", EVIL):
        r = rows[name]
        assert r["status"] == "ok" and r["errors"] == {}
        assert r["input_snr"] == pytest.approx(0.0, abs=0.2)
        for m in DEFAULT_METRICS:
            assert r[f"{m}_delta"] == pytest.approx(r[m] - r[f"{m}_input"])
            assert r[m] > r[f"{m}_input"], (name, m)  # 15 dB estimate beats the 0 dB input
    assert rows["silent_ref.wav"]["errors"]["pesq"] == "silent reference"
    assert rows["short.wav"]["errors"]["pesq"] == "too short"
    assert math.isnan(rows["short.wav"]["pesq_delta"])
    assert rows["broken.wav"]["status"] == "failed"
    assert rows["broken.wav"]["errors"] == {"file": "unreadable estimate"}
    text = result.summary["failure_text"]
    assert "3 files not scored: 1 silent estimate, 1 silent reference, 1 unreadable estimate" in text
    assert "pesq failed on 3 files: 1 silent estimate, 1 silent reference, 1 too short" in text
    assert "pesq (input) failed on 2 files: 1 silent reference, 1 too short" in text
    assert "stoi (input) failed on 2 files: 1 silent reference, 1 too little speech" in text
    assert "si_sdr (input) failed on 1 file: 1 silent reference" in text
    assert rows["silent_est.wav"]["errors"]["si_sdr"] == "silent estimate"
    assert rows["silent_est.wav"]["si_sdr_input"] == pytest.approx(0.0, abs=0.2)
    s = result.summary["scores"]["pesq"]
    assert s["enhanced"]["count"] == 4 and s["enhanced"]["nan"] == 4
    assert s["input"]["count"] == 5
    deltas = [by_file(result)[n]["pesq_delta"] for n in ("a.wav", "b.wav", "sub/c.wav", EVIL)]
    assert s["improvement"]["mean"] == pytest.approx(np.mean(deltas))


def test_report_files_and_escaping(result, corpus):
    files = result.report_files
    assert {p.name for p in files.values()} == {"scores.csv", "summary.json", "summary.md",
                                                 "report.html"}
    assert all(p.parent == corpus / "report" and p.stat().st_size > 0 for p in files.values())
    with open(files["csv"], newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 8 and {"pesq", "pesq_input", "pesq_delta", "input_snr"} <= set(table[0])
    assert {r["file"] for r in table} >= {EVIL}
    summary = json.loads(files["json"].read_text())  # NaN written as null: strict JSON
    assert summary["files"]["unpaired"] == 2
    md = files["markdown"].read_text()
    assert "| PESQ |" in md and "only\\_est.wav" in md and "silent reference" in md
    page = files["html"].read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.wav" in page
    assert "<script" not in page.lower()
    assert "data:image/png;base64," in page and "Improvement vs input SNR" in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_two_jobs_equal_one(result, corpus):
    two = evaluate(corpus / "ref", corpus / "est", corpus / "noisy", jobs=2, progress=False)
    assert [r["file"] for r in two.rows] == [r["file"] for r in result.rows]
    for a, b in zip(result.rows, two.rows):
        for k, v in a.items():
            if isinstance(v, float) and math.isnan(v):
                assert math.isnan(b[k]), k
            elif isinstance(v, float):  # NumPy's SIMD sums depend on memory alignment
                assert b[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
            else:
                assert b[k] == v, k


def test_without_input_and_length_notes(tmp_path):
    s = speechy(7)
    audio.write(tmp_path / "ref" / "x.wav", s, SR)
    audio.write(tmp_path / "est" / "x.wav", add_noise(s, 10, 7)[:-40], SR)
    audio.write(tmp_path / "ref" / "st.wav", np.stack([s, s]), SR)  # stereo reference
    audio.write(tmp_path / "est" / "st.flac", s, SR)  # mono estimate, other extension
    res = evaluate(tmp_path / "ref", tmp_path / "est", report_dir=tmp_path / "rep", jobs=1,
                   progress=False)
    rows = by_file(res)
    assert "trimmed" in rows["x.wav"]["notes"] and rows["x.wav"]["duration_s"] == (len(s) - 40) / SR
    assert "channels" in rows["st.wav"]["notes"] and rows["st.wav"]["si_sdr"] > 50
    assert "pesq_delta" not in rows["x.wav"] and "improvement" not in res.summary["scores"]["pesq"]
    page = res.report_files["html"].read_text()
    assert "Improvement vs input SNR" not in page and "Scores per file" in page
    assert "| PESQ |" in res.report_files["markdown"].read_text()


def test_dnsmos_without_speechmos_is_a_clear_error(tmp_path, monkeypatch):
    import sepssl.evaluation

    monkeypatch.setattr(sepssl.evaluation, "dnsmos_available", lambda: False)
    with pytest.raises(SepsslError, match="speechmos"):
        evaluate(tmp_path, tmp_path, dnsmos=True, progress=False)


@pytest.mark.slow
@pytest.mark.skipif(not dnsmos_available(), reason="needs speechmos (pip install sepssl[dnsmos])")
def test_dnsmos_scores_input_and_output_offline(tmp_path):
    # speechmos ships its ONNX models inside the wheel: nothing is downloaded here
    from conftest import noise, voiced

    clean = voiced(4.0, seed=2)
    audio.write(tmp_path / "ref" / "a.wav", clean, SR)
    audio.write(tmp_path / "noisy" / "a.wav", clean + noise(4.0, seed=3), SR)
    audio.write(tmp_path / "est" / "a.wav", clean + 0.1 * noise(4.0, seed=3), SR)
    res = evaluate(tmp_path / "ref", tmp_path / "est", noisy_dir=tmp_path / "noisy", dnsmos=True,
                   progress=False, jobs=1)
    bak = res.summary["scores"]["dnsmos_bak"]
    assert 1.0 <= bak["input"]["mean"] <= 5.0 and 1.0 <= bak["enhanced"]["mean"] <= 5.0
    assert bak["improvement"]["mean"] > 0  # less noise: a better background score


def test_summary_merges_identical_input_failures():
    from sepssl.evaluation import summarize
    row = {"file": "x.wav", "status": "partial", "sample_rate": SR, "pesq_mode": "wb",
           "pesq": math.nan, "pesq_input": math.nan, "pesq_delta": math.nan, "input_snr": 3.0,
           "errors": {"pesq": "too short", "pesq_input": "too short"}, "notes": {}}
    s = summarize([row], [], ["pesq"], has_input=True)
    assert s["failure_text"] == ["pesq failed on 1 file: 1 too short (on the noisy input too)"]
    assert s["scores"]["pesq"]["improvement"]["nan"] == 1


# --------------------------------------------------------------------------- pairing

def test_pair_files_by_relative_path_without_extension(tmp_path):
    from sepssl.evaluation.pairing import Pair

    tone = np.full(160, 0.1, dtype=np.float32)
    for side, names in {"ref": ["a.wav", "sub/b.wav", "c.wav", "d.wav", "d.flac"],
                        "est": ["a.flac", "sub/b.wav", "e.wav", "d.wav", "d.flac"],
                        "noisy": ["a.wav", "f.wav", "d.wav", "d.flac"]}.items():
        for name in names:
            audio.write(tmp_path / side / name, tone, SR)
    (tmp_path / "est" / "notes.txt").write_text("not audio")
    (tmp_path / "est" / ".hidden.wav").write_bytes(b"")

    pairs, unpaired = pair_files(tmp_path / "ref", tmp_path / "est", tmp_path / "noisy")
    r, e, n = (str(tmp_path / side) for side in ("ref", "est", "noisy"))
    assert pairs == [  # sorted by key; a.wav pairs a.flac; d.wav and d.flac each by full name
        Pair("a.wav", f"{r}/a.wav", f"{e}/a.flac", f"{n}/a.wav"),
        Pair("d.flac", f"{r}/d.flac", f"{e}/d.flac", f"{n}/d.flac"),
        Pair("d.wav", f"{r}/d.wav", f"{e}/d.wav", f"{n}/d.wav"),
        Pair("sub/b.wav", f"{r}/sub/b.wav", f"{e}/sub/b.wav", None),  # scored without input
    ]
    assert unpaired == [
        {"file": "c.wav", "missing": "estimate"},
        {"file": "e.wav", "missing": "reference"},
        {"file": "sub/b.wav", "missing": "input"},
        {"file": "f.wav", "missing": "reference and estimate"},
    ]

    # two single files pair whatever their names; no noisy side: input is None, nothing missing
    pairs, unpaired = pair_files(tmp_path / "ref" / "c.wav", tmp_path / "est" / "e.wav")
    assert pairs == [("c.wav", f"{r}/c.wav", f"{e}/e.wav", None)] and unpaired == []
    with pytest.raises(DataError, match="the estimate side"):
        pair_files(tmp_path / "ref", tmp_path / "missing")


# --------------------------------------------------------------------------- HTML escaping

def test_html_report_escapes_user_text():
    """File names, reasons, notes and folders are shown as text, never as markup."""
    from sepssl.evaluation import summarize
    from sepssl.evaluation.html_page import render_html
    from sepssl.evaluation.markdown import summary_markdown

    quote = 'x" onmouseover="alert(2)'
    row = {"file": EVIL, "status": "partial", "sample_rate": SR, "duration_s": 1.0,
           "channels": 1, "pesq_mode": "wb", "pesq": math.nan, "si_sdr": 10.0,
           "errors": {"pesq": f"pesq error: {quote}"},
           "notes": {"<b>note</b>": "<img src=x onerror=alert(3)>"}}
    unpaired = [{"file": "<iframe src=evil>.wav", "missing": "estimate"}]
    summary = summarize([row], unpaired, ["pesq", "si_sdr"], has_input=False)
    summary.update(reference="<script>alert(4)</script>", estimate="est & co", input=None)
    page = render_html([row], summary)
    assert "<script" not in page.lower() and "<iframe" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.wav" in page
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in page and "est &amp; co" in page
    assert "&lt;iframe src=evil&gt;.wav" in page and "&lt;b&gt;note&lt;/b&gt;" in page
    assert ' onmouseover="' not in page  # the quote in the title attribute is escaped too
    assert "Content-Security-Policy" in page and page.count("<html") == 1
    md = summary_markdown(summary)
    assert "\\<iframe src=evil\\>.wav" in md and "<iframe" not in md.replace("\\<iframe", "")


# --------------------------------------------------------------------------- pool

def test_workers_run_one_thread_each():
    from concurrent.futures import ProcessPoolExecutor

    from threadpoolctl import threadpool_info

    from sepssl.evaluation import pool

    with ProcessPoolExecutor(1, mp_context=pool._mp_context(),
                             initializer=pool._init_worker) as ex:
        info = ex.submit(threadpool_info).result()
        torch_threads = ex.submit(torch.get_num_threads).result()
    assert info and all(lib["num_threads"] == 1 for lib in info), info
    assert torch_threads == 1


def test_unscorable_and_cut_off_estimates_fail_and_set_the_exit_code(tmp_path):
    """All-NaN / all-zero estimates are "not scored", a half-length one fails unless
    --allow-short, a report path that is a file is one line, nothing scored is exit code 1."""
    import numpy as np

    from sepssl import audio, cli

    rate = 16000
    t = np.arange(2 * rate) / rate
    clean = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    audio.write(tmp_path / "ref" / "a.wav", clean, rate)
    audio.write(tmp_path / "ref" / "b.wav", clean, rate)
    audio.write(tmp_path / "est" / "a.wav", np.zeros_like(clean), rate, subtype="FLOAT")
    audio.write(tmp_path / "est" / "b.wav", clean[: rate], rate)      # half as long
    args = ["evaluate", "--ref", str(tmp_path / "ref"), "--est", str(tmp_path / "est"),
            "--jobs", "1", "-q"]
    assert cli.main(args + ["--report", str(tmp_path / "r")]) == 1
    import csv

    rows = {r["file"]: r for r in csv.DictReader(open(tmp_path / "r" / "scores.csv"))}
    assert rows["a.wav"]["status"] == "failed" and "silent estimate" in rows["a.wav"]["errors"]
    assert rows["b.wav"]["status"] == "failed" and "too short" in rows["b.wav"]["errors"]
    assert cli.main(args + ["--report", str(tmp_path / "r2"), "--allow-short"]) == 1   # a.wav still
    rows = {r["file"]: r for r in csv.DictReader(open(tmp_path / "r2" / "scores.csv"))}
    assert rows["b.wav"]["status"] == "ok"
    (tmp_path / "file").write_text("x")
    assert cli.main(args + ["--report", str(tmp_path / "file")]) == 2


# --------------------------------------------------------------------------- the report's new parts

def test_intervals_and_only_clear_changes_coloured():
    from sepssl.evaluation import stats
    from sepssl.evaluation.formatting import verdict

    st = stats([1.0, 2.0, 3.0, float("nan")])
    assert st["ci95"] == pytest.approx([2 - 4.302653 / 3 ** 0.5, 2 + 4.302653 / 3 ** 0.5],
                                       rel=1e-5)                     # t(0.975, 2) = 4.3027
    assert verdict(st) == ""                                          # 2 ± 2.48 crosses 0
    assert verdict(stats([1.0, 1.2, 1.4])) == "better"
    assert verdict(stats([-1.0, 2.0, 0.5])) == ""                     # crosses 0: no colour
    assert verdict(stats([-3.0, -2.0, -2.5])) == "worse"
    assert verdict(stats([1.0])) == "" and math.isnan(stats([1.0])["ci95"][0])


def test_report_shows_provenance_intervals_and_players(result, corpus):
    page = result.report_files["html"].read_text()
    summary = json.loads(result.report_files["json"].read_text())
    prov = summary["provenance"]
    assert prov["sepssl"] and prov["date"] and prov["command"]
    assert prov["enhanced_by"] is None and "no sepssl_enhance.json" in page
    lo, hi = summary["scores"]["pesq"]["improvement"]["ci95"]
    assert lo <= summary["scores"]["pesq"]["improvement"]["mean"] <= hi
    assert "95% interval" in page and "95% interval" in result.report_files["markdown"].read_text()
    assert page.count("data:audio/wav;base64,") == 9        # worst, median, best x in/out/ref
    for which in ("worst", "median", "best"):
        assert f"<b>{which}</b>" in page
    assert "media-src data:" in page and "http" not in page.replace("http-equiv", "")


def test_enhance_leaves_a_record_that_evaluate_shows(tmp_path, capsys):
    from sepssl.cli import main

    for i in range(3):
        s = speechy(i)
        audio.write(tmp_path / "ref" / f"{i}.wav", s, SR)
        audio.write(tmp_path / "noisy" / f"{i}.wav", add_noise(s, 5.0, i), SR)
    assert main(["enhance", str(tmp_path / "noisy"), "-o", str(tmp_path / "enh"), "-q"]) == 0
    record = json.loads((tmp_path / "enh" / "sepssl_enhance.json").read_text())
    assert record["model"] == "default" and len(record["model_sha256"]) == 64
    assert record["atten_lim_db"] == 20.0 and record["trained_with"] == "supervised"
    assert record["command"].startswith("sepssl enhance ") and record["command"].endswith(" -q")
    res = evaluate(tmp_path / "ref", tmp_path / "enh", tmp_path / "noisy",
                   report_dir=tmp_path / "rep", jobs=1, progress=False)
    assert res.summary["files"]["unpaired"] == 0           # the record is not an estimate
    page = res.report_files["html"].read_text()
    assert record["model_sha256"][:12] in page and "20.0 dB" in page
