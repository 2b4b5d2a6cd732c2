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


@pytest.mark.parametrize("orig, new", [(48000, 16000), (44100, 16000), (8000, 16000), (16000, 22050)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_resample_matches_torchaudio_and_reuses_its_kernel(orig, new, dtype):
    import torchaudio.functional as AF

    x = torch.randn(2, 3, 4000, generator=torch.Generator().manual_seed(0)).to(dtype)
    before = audio._resampler.cache_info()
    y = audio.resample(x, orig, new)
    assert y.dtype == dtype and y.shape == (2, 3, -(-4000 * new // orig))
    assert torch.allclose(y, AF.resample(x, orig, new), atol=1e-6, rtol=0)
    short = x[0, :1, :1234]
    assert torch.allclose(audio.resample(short, orig, new), AF.resample(short, orig, new), atol=1e-6, rtol=0)
    after = audio._resampler.cache_info()
    assert after.hits >= before.hits + 1  # the second call reused the kernel


def test_resample_kernel_made_in_inference_mode_works_with_autograd():
    with torch.inference_mode():
        audio.resample(torch.randn(1, 999), 12000, 16000)  # first use of this pair: built here
    x = torch.randn(1, 999, requires_grad=True)
    audio.resample(x, 12000, 16000).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_resample_keeps_equal_rates_and_refuses_integers():
    x = torch.randn(1, 100)
    assert audio.resample(x, RATE, RATE) is x
    with pytest.raises(TypeError):
        audio.resample(torch.zeros(1, 100, dtype=torch.int16), 8000, RATE)


def test_written_files_get_the_umasks_permissions(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        path = audio.write(tmp_path / "a.wav", voiced(0.1), RATE)
        with audio.atomic_writer(tmp_path / "b.flac", RATE, 1) as f:
            f.write(np.zeros(100, np.float32))
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert os.stat(tmp_path / "b.flac").st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.flac"]  # no .part left
