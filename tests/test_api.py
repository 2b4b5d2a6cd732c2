"""The Python API: numpy in → numpy out, tensor in → tensor out, the input's shape and dtype,
clear errors for what is not a signal, `sepssl.enhance_file`."""
import numpy as np
import pytest
import torch

import sepssl
from sepssl import audio
from sepssl.errors import AudioError

from conftest import RATE, noise, voiced

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def signal():
    return (voiced(1.0) + noise(1.0)).astype(np.float32)


@pytest.mark.parametrize("make", [lambda x: x, lambda x: np.stack([x, 0.5 * x]),
                                  lambda x: torch.from_numpy(x), lambda x: torch.from_numpy(np.stack([x, x]))])
def test_the_output_has_the_inputs_type_and_shape(tiny_model, signal, make):
    x = make(signal)
    out = tiny_model.enhance(x, sample_rate=RATE)
    assert type(out) is type(x) and tuple(out.shape) == tuple(x.shape) and out.dtype == x.dtype


def test_integer_pcm_is_scaled_in_and_out(tiny_model, signal):
    pcm = (signal * 32767).astype(np.int16)
    out = tiny_model.enhance(pcm, sample_rate=RATE)
    ref = tiny_model.enhance(pcm.astype(np.float32) / 32768, sample_rate=RATE)
    assert out.dtype == np.int16
    assert np.abs(out.astype(np.float32) / 32768 - ref).max() < 2 / 32768


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 3, 4), np.float32), r"\(time,\) or \(channels, time\)"),
    (np.zeros((16000, 2), np.float32), r"looks like \(time, channels\)"),
    (np.zeros(100, bool), "not audio"),
    ([0.0, 0.1], "numpy array"),
])
def test_what_is_not_a_signal_is_a_clear_error(tiny_model, bad, message):
    with pytest.raises(AudioError, match=message):
        tiny_model.enhance(bad, sample_rate=RATE)


@pytest.mark.parametrize("rate", [0, -16000, 16000.5, True])
def test_the_sample_rate_must_be_positive_hz(tiny_model, signal, rate):
    with pytest.raises(AudioError, match="sample_rate"):
        tiny_model.enhance(signal, sample_rate=rate)


def test_enhance_file_writes_the_enhanced_file(tiny_model, signal, tmp_path):
    audio.write(tmp_path / "in.wav", signal, RATE)
    out = sepssl.enhance_file(tmp_path / "in.wav", tmp_path / "out.wav", model=tiny_model)
    wav, rate = audio.read(out)
    assert rate == RATE and wav.shape == (1, signal.shape[0])
    expected = tiny_model.enhance(tmp_path / "in.wav")
    assert torch.allclose(wav, expected, atol=1 / 32768)   # written as the input's PCM_16
