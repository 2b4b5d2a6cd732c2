import numpy as np
import pytest
import soundfile as sf
import torch

from sepssl import audio
from sepssl.errors import AudioError

from conftest import RATE, voiced


def test_write_read_roundtrip_keeps_rate_channels(tmp_path):
    x = np.stack([voiced(0.5), voiced(0.5, seed=3)])
    path = audio.write(tmp_path / "sub" / "a.flac", x, 22050, subtype="PCM_24")
    wav, rate = audio.read(path)
    assert rate == 22050 and wav.shape == (2, x.shape[1])
    assert torch.allclose(wav, torch.from_numpy(x), atol=1e-6)
    assert audio.info(path).subtype == "PCM_24"


def test_read_resamples(tmp_path):
    path = audio.write(tmp_path / "a.wav", voiced(1.0, rate=8000), 8000)
    wav, rate = audio.read(path, sample_rate=RATE)
    assert rate == RATE and wav.shape == (1, RATE)


def test_int_write_clips_instead_of_wrapping(tmp_path):
    path = audio.write(tmp_path / "loud.wav", np.array([0.5, 1.7, -2.0], dtype=np.float32), RATE,
                       subtype="PCM_16")
    data, _ = sf.read(path)
    assert data[1] > 0.99 and data[2] <= -0.99


@pytest.mark.parametrize("make, reason", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(b"RIFF....not audio at all" * 10), "not a readable audio file"),
    (lambda p: sf.write(p, np.zeros(1000, np.float32), RATE), "all zeros"),
    (lambda p: sf.write(p, np.array([0.1, np.nan, 0.2] * 100, np.float32), RATE, subtype="FLOAT"),
     "NaN or Inf"),
    (lambda p: sf.write(p, np.zeros((0, 1), np.float32), RATE), "no samples"),
])
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path, make, reason):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError) as err:
        audio.read(path)
    msg = str(err.value)
    assert str(path) in msg and reason in msg and "\n" not in msg


def test_atomic_writer_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.wav"
    with pytest.raises(RuntimeError):
        with audio.atomic_writer(target, RATE, 1) as f:
            f.write(np.zeros(100, np.float32))
            raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


def test_find_audio_recursive_skips_hidden_and_non_audio(tmp_path):
    for name in ["a.wav", "d/b.flac", "d/.c.wav", ".h/x.wav", "notes.txt"]:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in audio.find_audio(tmp_path)] == ["a.wav", "d/b.flac"]


def test_reader_reads_blocks_and_tracks_peak(tmp_path):
    x = voiced(1.0)
    path = audio.write(tmp_path / "a.wav", x, RATE, subtype="FLOAT")
    with audio.Reader(path) as r:
        block = r.read(100, 50)
    assert block.shape == (1, 50)
    assert torch.allclose(block[0], torch.from_numpy(x[100:150]))
    assert r.peak == pytest.approx(float(np.abs(x[100:150]).max()))
