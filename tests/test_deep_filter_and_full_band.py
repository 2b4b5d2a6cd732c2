"""The masker's deep filter and the full-band path of `enhance` (upper band gained)."""
import pytest
import torch

from sepssl import audio
from sepssl.dsp import band_extension, stft
from sepssl.errors import ConfigError
from sepssl.models.enhancer import Enhancer, load_model
from sepssl.models.registry import build_model
from sepssl.enhance import enhance_signal


def test_deep_filter_taps_shift_frames_and_sum():
    torch.manual_seed(0)
    spec = torch.randn(2, 5, 7, dtype=torch.cfloat)
    coefs = torch.zeros(2, 3, 5, 7, dtype=torch.cfloat)
    coefs[:, 1] = 1                                     # centre tap only: the identity
    assert torch.allclose(stft.deep_filter(spec, coefs, lookahead=1), spec)
    coefs = torch.zeros(2, 3, 5, 7, dtype=torch.cfloat)
    coefs[:, 0], coefs[:, 2] = 2, 1j                    # previous frame ×2, next frame ×i
    out = stft.deep_filter(spec, coefs, lookahead=1)
    prev = torch.nn.functional.pad(spec, (1, 0))[..., :-1]
    nxt = torch.nn.functional.pad(spec, (0, 1))[..., 1:]
    assert torch.allclose(out, 2 * prev + 1j * nxt)
    with pytest.raises(ValueError, match="lookahead"):
        stft.deep_filter(spec, coefs, lookahead=3)


def test_a_masker_with_a_deep_filter_starts_as_the_plain_masker_and_learns_its_taps():
    torch.manual_seed(0)
    plain = build_model({"name": "masker", "hidden": 16, "layers": 1}, 1, 16000)
    torch.manual_seed(0)
    df = build_model({"name": "masker", "hidden": 16, "layers": 1,
                      "deep_filter": {"bins": 40, "order": 3, "lookahead": 1}}, 1, 16000)
    x = torch.randn(2, 8000)
    assert torch.allclose(plain(x), df(x), atol=1e-6)   # zero-initialised taps
    df(x).square().mean().backward()
    assert df.df.weight.grad.abs().sum() > 0


def test_deep_filter_options_are_checked_and_travel_in_the_model_file(tmp_path):
    with pytest.raises(ConfigError, match="lookahead"):
        build_model({"name": "masker", "deep_filter": {"order": 2, "lookahead": 2}}, 1, 16000)
    with pytest.raises(ConfigError, match="bins"):
        build_model({"name": "masker", "n_fft": 128, "hop": 32,
                     "deep_filter": {"bins": 100}}, 1, 16000)
    enh = Enhancer({"name": "masker", "hidden": 8, "layers": 1,
                    "deep_filter": {"bins": 20, "order": 2, "lookahead": 0}}).eval()
    torch.nn.init.normal_(enh.net.df.weight, std=0.1)   # taps that matter
    loaded = load_model(enh.save(tmp_path / "df.pt"))
    assert loaded.net.df_spec == {"bins": 20, "order": 2, "lookahead": 0}
    x = torch.randn(1, 4000)
    assert torch.allclose(loaded(x), enh(x), atol=1e-6)


class _Gain(torch.nn.Module):
    """A 16 kHz "model" that scales everything by `g` (so the top of its band by `g`)."""

    sample_rate = 16000
    atten_lim_db = None

    def __init__(self, g: float):
        super().__init__()
        self.g = g
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, wav):
        return self.g * wav


def _band_level(x: torch.Tensor, rate: int, low: float, high: float) -> float:
    spec = torch.fft.rfft(x)
    freqs = torch.fft.rfftfreq(x.shape[-1], 1 / rate)
    keep = (freqs >= low) & (freqs < high)
    return float(spec[..., keep].abs().square().sum())


@pytest.mark.parametrize("rate", [44100, 48000])
def test_the_upper_band_of_a_full_band_input_is_gained_like_the_top_of_the_models_band(rate):
    torch.manual_seed(0)
    x = 0.1 * torch.randn(1, rate)                      # white: content up to Nyquist
    for g in (1.0, 0.25):
        y = enhance_signal(_Gain(g), x, rate, chunk_seconds=0.5)
        ratio = _band_level(y, rate, 9000, rate / 2 - 500) / _band_level(x, rate, 9000, rate / 2 - 500)
        assert ratio == pytest.approx(g * g, rel=0.05)  # kept at g = 1, down 12 dB at g = 0.25
    assert torch.allclose(enhance_signal(_Gain(1.0), x, rate), x, atol=2e-3)  # identity stays one


def test_band_gains_follow_the_output_frame_by_frame():
    torch.manual_seed(0)
    x = torch.randn(1, 16000)
    y = x.clone()
    y[..., 8000:] *= 0.5                                # second half: the top band at half amplitude
    g = band_extension.band_gains(x, y, 16000, (4000, 8000))
    assert g.shape == (1, 16000 // 128 + 1)
    assert torch.allclose(g[0, 5:55], torch.ones(50), atol=1e-3)
    assert torch.allclose(g[0, 70:120], torch.full((50,), 0.5), atol=1e-3)
    assert float(g.max()) <= 1.0
