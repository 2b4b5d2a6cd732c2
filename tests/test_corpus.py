"""The small corpus build: reproducible, disjoint splits, manifests that match the files.

The small corpus is built twice per session (once per seed-identical build) into temporary
folders; it uses the shared package cache (~/.cache/sepssl) when present and never downloads.
"""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepssl.errors import DataError

pytestmark = [pytest.mark.slow,   # builds corpora with real TTS
              pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("flite") is None,
                                 reason="espeak-ng/flite not installed (scripts/install_system_deps.sh)")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from sepssl.data.corpus import build_corpus
    out = tmp_path_factory.mktemp("corpus") / "small"
    summary = build_corpus(out, "small", seed=3, progress=False)
    return out, summary


@pytest.fixture(scope="module")
def rows(corpus):
    out, _ = corpus
    table = []
    for s in ("train", "valid", "test"):
        with open(out / "manifests" / f"{s}.csv", newline="") as f:
            table.extend(csv.DictReader(f))
    return table


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "corpus.json" and p.relative_to(root).parts[0] != "fullband":
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_files(corpus, tmp_path):
    from sepssl.data.corpus import build_corpus
    out, _ = corpus
    again = tmp_path / "again"
    summary = build_corpus(again, "small", seed=3, progress=False, workers=1, fullband=True)
    assert _digest(out) == _digest(again)          # --fullband leaves the 16 kHz files be
    assert set(summary["fullband"]["splits"]) == {"train", "valid", "test"}


def test_manifests_match_files(corpus, rows):
    out, summary = corpus
    listed = {r["path"] for r in rows}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.wav")
               if not p.relative_to(out).parts[0] == "test_real"}    # links, checked below
    assert listed == on_disk
    for r in rows:
        assert r["path"] == f"{r['split']}/{r['kind']}/{r['id']}.wav"
        i = sf.info(str(out / r["path"]))
        assert abs(i.frames / i.samplerate - float(r["seconds"])) < 1e-3
    for s in ("train", "valid", "test"):
        for kind, n in summary["counts"][s].items():
            assert n == sum(1 for r in rows if r["split"] == s and r["kind"] == kind)
    assert json.loads((out / "corpus.json").read_text())["seed"] == 3


def test_layout_and_pairs(corpus, rows):
    out, summary = corpus
    assert summary["counts"]["train"]["noisy"] == 40
    assert summary["counts"]["train"]["noise"] == 10
    for s in ("train", "valid", "test"):
        clean = {p.name for p in (out / s / "clean").glob("*.wav")}
        noisy = {p.name for p in (out / s / "noisy").glob("*.wav")}
        assert clean == noisy and clean
        for name in clean:
            assert sf.info(str(out / s / "clean" / name)).frames == \
                sf.info(str(out / s / "noisy" / name)).frames
    assert not (out / "valid" / "noise").exists() and not (out / "test" / "noise").exists()


def test_audio_format(corpus, rows):
    out, _ = corpus
    for r in rows:
        i = sf.info(str(out / r["path"]))
        assert (i.samplerate, i.channels, i.subtype) == (16000, 1, "PCM_16")
        x, _ = sf.read(str(out / r["path"]), dtype="float32")
        assert np.isfinite(x).all() and np.abs(x).max() > 1e-3
        lo, hi = (3.0, 10.0) if r["kind"] == "noise" else (2.0, 6.0)
        assert lo - 0.01 <= float(r["seconds"]) <= hi + 0.01, r


def _voice(speaker: str) -> str:
    """Base voice of a manifest speaker: espeak accent and variant, flite/festival person."""
    if ":" in speaker:                           # real speech: "<package>:<voice>"
        return speaker
    _, engine, rest = speaker.split("-", 2)
    rest = rest.rsplit("-", 1)[0]
    if engine == "espeak":                       # "espeak-ng-<accent>+<variant>"
        return rest[len("ng-"):]
    return {"slt_hts": "slt", "kal16": "kal", "kal": "kal"}.get(rest, rest)


def test_speakers_disjoint(corpus, rows):
    _, summary = corpus
    voices = {s: {_voice(r["speaker"]) for r in rows if r["split"] == s and r["kind"] == "noisy"}
              for s in ("train", "valid", "test")}
    assert not voices["train"] & voices["valid"]
    assert not voices["train"] & voices["test"]
    assert not voices["valid"] & voices["test"]
    variants = summary["split_rules"]["voices"]["espeak_variants"]
    accents = summary["split_rules"]["voices"]["espeak_accents"]
    for a, b in (("train", "valid"), ("train", "test"), ("valid", "test")):
        assert not set(variants[a]) & set(variants[b])
        assert not set(accents[a]) & set(accents[b])
    babble = {s: {t["id"] for t in summary["babble_talkers"][s]} for s in voices}
    targets = {sp for s in voices for sp in summary["speakers"][s]}
    assert not targets & set().union(*babble.values())


def test_noise_files_disjoint(corpus, rows):
    _, summary = corpus
    files = {s: set() for s in ("train", "valid", "test")}
    for r in rows:
        for layer in r["noise_name"].split(" & "):
            if layer and not layer.startswith("synthetic:"):
                files[r["split"]].update(n for n in layer.split("+") if ":" in n)
    assert not files["train"] & files["valid"]
    assert not files["train"] & files["test"]
    assert not files["valid"] & files["test"]
    pool = summary["split_rules"]["noise_files"]
    if pool["train"]:                            # real noise packages are cached
        assert any(f for f in files["test"])


def test_snr_as_recorded(corpus, rows):
    out, _ = corpus
    checked = 0
    for r in rows:
        if r["kind"] != "noisy":
            continue
        y, _ = sf.read(str(out / r["path"]), dtype="float64")
        c, _ = sf.read(str(out / r["path"].replace("/noisy/", "/clean/")), dtype="float64")
        snr = 10 * np.log10(np.sum(c ** 2) / np.sum((y - c) ** 2))
        if r["reverberant"] == "0":
            assert abs(snr - float(r["snr_db"])) < 0.2, r
            checked += 1
        else:                                    # reverberation adds to the difference
            assert snr < float(r["snr_db"]) + 0.2, r
    assert checked > 20
    snrs = [float(r["snr_db"]) for r in rows if r["kind"] == "noisy"]
    assert -5 <= min(snrs) and max(snrs) <= 20


def test_clean_aligned_with_noisy(corpus, rows):
    """No delay between clean and noisy, also for reverberant clips (GCC-PHAT peak at 0)."""
    out, _ = corpus
    checked = 0
    for r in rows:
        if r["kind"] == "noisy" and float(r["snr_db"]) > 5:
            y, _ = sf.read(str(out / r["path"]))
            c, _ = sf.read(str(out / r["path"].replace("/noisy/", "/clean/")))
            n = 2 * len(c)
            cross = np.fft.rfft(y, n) * np.conj(np.fft.rfft(c, n))
            gcc = np.fft.irfft(cross / (np.abs(cross) + 1e-12), n)
            lag = int(np.argmax(gcc))
            assert min(lag, n - lag) <= 1, r
            checked += 1
    assert checked > 10


def test_reverberation_keeps_direct_path_at_zero():
    from sepssl.data import rooms
    rir = rooms.random_rir(np.random.default_rng(0))
    x = np.zeros(4000, np.float32)
    x[1000] = 1.0
    y = rooms.reverberate(x, rir)
    assert len(y) == len(x) and int(np.argmax(np.abs(y))) == 1000 and abs(y[1000] - 1) < 1e-5


def test_real_speech_by_package_and_voice(corpus, rows):
    from sepssl.data import realspeech

    out, summary = corpus
    packages = {s: {r["speech_source"] for r in rows if r["split"] == s
                    and r["speech_source"] in realspeech.PACKAGES} for s in ("train", "valid", "test")}
    for s, names in packages.items():
        assert all(realspeech.source(n).split == s for n in names)
    voices = {s: [v["voice"] for v in summary["real_voice_details"][s]] for s in packages}
    assert summary["real_voices"] == voices["train"] + voices["valid"] + voices["test"]
    assert len(set(summary["real_voices"])) == len(summary["real_voices"])
    real_test = sorted(r["id"] for r in rows if r["split"] == "test" and r["kind"] == "noisy"
                       and r["speech_source"] in realspeech.PACKAGES)
    for kind in ("clean", "noisy"):
        linked = sorted(p.stem for p in (out / "test_real" / kind).glob("*.wav"))
        assert linked == real_test
    if summary["split_rules"]["real_speakers"]["test"]:
        assert real_test


def test_missing_source_said_and_recorded(tmp_path, capsys):
    from sepssl.cli import corpus_summary
    from sepssl.data.corpus import PLANS, build_corpus

    summary = build_corpus(tmp_path / "c", "small", seed=0, cache_dir=tmp_path / "empty",
                           progress=False, workers=1)
    err = capsys.readouterr().err
    small = PLANS["small"]
    wanted = set(small.speech_packages) | set(small.noise_packages)
    assert len(wanted) >= 8 and {m["package"] for m in summary["missing_sources"]} == wanted
    for name in wanted:
        assert f"{name} (" in err and "is missing" in err
    on_disk = json.loads((tmp_path / "c" / "corpus.json").read_text())
    assert on_disk["missing_sources"] == summary["missing_sources"]
    assert on_disk["real_voices"] == [] and on_disk["noise_sources"] == []
    assert "MISSING" in corpus_summary(summary, tmp_path / "c")


def test_espeak_variants_differ(tmp_path):
    from sepssl.data.tts import _espeak_voice
    outs = {}
    for accent in ("en-gb", "en-us"):
        for variant in ("", "f3"):
            p = tmp_path / f"{accent}{variant}.wav"
            subprocess.run(["espeak-ng", "-v", _espeak_voice(accent, variant), "-w", str(p),
                            "hello there"], check=True)
            outs[accent, variant] = p.read_bytes()
    assert outs["en-gb", ""] != outs["en-gb", "f3"]
    assert outs["en-us", ""] != outs["en-us", "f3"]


def test_errors(tmp_path):
    from sepssl.data.corpus import build_corpus
    with pytest.raises(DataError, match="unknown corpus size"):
        build_corpus(tmp_path / "x", "huge")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="not empty"):
        build_corpus(tmp_path / "busy", "small")
    assert (tmp_path / "busy" / "notes.txt").exists()


@pytest.mark.parametrize("engine,voice,variant", [
    ("espeak-ng", "en-gb-scotland", "m3"), ("flite", "slt", ""), ("festival", "kal", ""),
    ("festival", "slt_hts", "")])
def test_tts_engines(engine, voice, variant):
    from sepssl.data import tts
    if engine not in tts.available_engines():
        pytest.skip(f"{engine} not installed")
    rng = np.random.default_rng(0)
    spk = tts.random_speaker(rng, "x", engine, voice, variant)
    x = tts.synthesize(spk, "Four green bottles stood on the table.", rng)
    assert x.dtype == np.float32 and x.ndim == 1 and np.isfinite(x).all()
    assert 1.0 < len(x) / tts.SAMPLE_RATE < 5.0 and np.abs(x).max() > 0.01
