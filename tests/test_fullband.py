"""The full-band part of the corpus (`sepssl data --fullband`, `sepssl.data.fullband`): only
what has a real upper band goes in, at its own rate, in the 16 kHz corpus's splits, with
paired noisy twins at the stated SNR; the same seed gives the same files."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sepssl.data import fullband
from sepssl.data.debian import Package
from sepssl.data.noise import NoiseFile
from sepssl.data.realspeech import VoiceSource


def _syllables(rate: int, seconds: float = 1.5, seed: int = 0, upper: bool = True) -> np.ndarray:
    """Bursts of noise (speech-like: on 150 ms, off 100 ms), full band or cut at 7 kHz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    x = rng.standard_normal(n) * 0.1
    if not upper:
        spec = np.fft.rfft(x)
        spec[np.fft.rfftfreq(n, 1 / rate) > 7000] = 0
        x = np.fft.irfft(spec, n)
    on = (np.arange(n) / rate % 0.25) < 0.15
    return (x * on).astype(np.float32)


def test_upper_band_is_speech_tells_speech_from_hiss_and_narrowband():
    rate = 44100
    assert fullband.upper_band_is_speech(_syllables(rate), rate)
    narrow = _syllables(rate, upper=False)
    assert not fullband.upper_band_is_speech(narrow, rate)
    hiss = narrow + 0.003 * np.random.default_rng(1).standard_normal(len(narrow)).astype(np.float32)
    spec = np.fft.rfft(hiss)                       # a steady floor above 8 kHz only
    assert not fullband.upper_band_is_speech(hiss, rate)
    assert np.abs(spec[np.fft.rfftfreq(len(hiss), 1 / rate) > 8000]).sum() > 0
    assert not fullband.upper_band_is_speech(_syllables(16000), 16000)   # no band above 8 kHz


def test_join_clips_keeps_order_and_pauses():
    rate = 1000
    utts = [np.full(3000, i + 1, np.float32) for i in range(7)]
    clips = fullband.join_clips(utts, rate)
    assert [len(c) for c in clips] == [3 * 3000 + 2 * 200, 3 * 3000 + 2 * 200, 3000]
    first = clips[0]
    assert first[0] == 1 and first[3000:3200].max() == 0 and first[3200] == 2
    assert clips[-1][0] == 7


def test_noisy_twin_is_at_its_snr_and_scaled_with_its_clean():
    rng = np.random.default_rng(0)
    clean = (0.1 * rng.standard_normal(8000)).astype(np.float32)
    noise = np.concatenate([np.zeros(3000), rng.standard_normal(2000)]).astype(np.float32)
    noisy, ref = fullband.noisy_twin(clean, noise, 5.0, rng)
    assert noisy.shape == ref.shape == clean.shape
    snr = 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((noisy - ref) ** 2.0))
    assert abs(snr - 5.0) < 0.01
    assert np.abs(noisy).max() <= fullband.PEAK + 1e-6
    scale = ref[0] / clean[0]
    assert np.allclose(ref, clean * scale, atol=1e-6)


def _package(root: Path) -> Package:
    """A made-up speech package: voice v1 at 44.1 kHz (two full-band files, one of them twice,
    one narrowband), v1 at 16 kHz (narrowband rate), and a file no voice rule takes."""
    files = {"v1/a.wav": (_syllables(44100, 9, 0), 44100),
             "v1/b.wav": (_syllables(44100, 2, 1), 44100),
             "v1/copy_of_a.wav": (_syllables(44100, 9, 0), 44100),
             "v1/narrow.wav": (_syllables(44100, 2, 2, upper=False), 44100),
             "v1/low_rate.wav": (_syllables(16000, 2, 3), 16000),
             "other/x.wav": (_syllables(48000, 2, 4), 48000)}
    for rel, (x, rate) in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / rel, x, rate)
    return Package("fake-speech", "1", 0, root)


def _noise(root: Path) -> dict[str, dict[str, list[NoiseFile]]]:
    root.mkdir(parents=True)
    out = {}
    for split, rate in (("train", 48000), ("test", 16000)):
        path = root / f"{split}.wav"
        sf.write(path, np.random.default_rng(5).standard_normal(rate * 3).astype(np.float32) * 0.1,
                 rate)
        out[split] = {"fake-noise": [NoiseFile("fake-noise", "1", path.name, path, 3.0)]}
    empty = root / "empty.wav"                       # decodes to nothing: left out, no crash
    sf.write(empty, np.zeros(0, np.float32), 48000)
    out["train"]["fake-noise"].append(NoiseFile("fake-noise", "1", empty.name, empty, 0.0))
    return out


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.wav")):
        h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def fake_source(monkeypatch):
    rule = VoiceSource("fake-speech", "train",
                       lambda rel: ("v1", "xx") if rel.startswith("v1/") else None, "MIT")
    from sepssl.data import realspeech

    for module in (fullband, realspeech):
        monkeypatch.setattr(module, "source", lambda name: rule)


def test_build_takes_only_full_band_speech_in_its_split_with_noisy_twins(tmp_path, fake_source):
    pkg = _package(tmp_path / "pkg")
    pool = _noise(tmp_path / "noise")
    summary = fullband.build_fullband(tmp_path / "c", [pkg], {"train": ["v1"], "test": []}, pool)
    root = tmp_path / "c" / "fullband"
    clean = sorted((root / "train" / "clean").glob("*.wav"))
    # a.wav (9 s: a clip of its own) and b.wav; the copy of a, the narrowband file and the
    # 16 kHz file are left out
    names = ["v1-441-0000.wav", "v1-441-0001.wav"]
    assert [p.name for p in clean] == names
    assert np.allclose([sf.info(p).duration for p in clean], [9.0, 2.0], atol=0.15)   # trimmed
    assert {sf.info(p).samplerate for p in clean} == {44100}
    assert sorted(p.name for p in (root / "train" / "noisy").glob("*.wav")) == names
    assert sf.info(root / "train" / "noise" / "fake-noise_train.wav").samplerate == 48000
    assert not (root / "test").exists()              # its noise is 16 kHz, it has no voice
    part = summary["splits"]["train"]
    assert part["voices"] == ["v1"] and part["speech_files"] == part["noisy_files"] == 2
    assert part["noise_files"] == 1
    assert summary["splits"]["test"]["noise_files"] == 0
    again = fullband.build_fullband(tmp_path / "d", [pkg], {"train": ["v1"], "test": []}, pool)
    assert again == summary and _digest(root) == _digest(tmp_path / "d" / "fullband")


def test_the_data_command_offers_fullband():
    from sepssl.cli import build_parser

    args = build_parser().parse_args(["data", "--out", "x", "--fullband"])
    assert args.fullband
