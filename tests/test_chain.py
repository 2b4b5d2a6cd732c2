"""The recording chain (`sepssl.dsp.chain`, `task.recording_chain`): each piece does what it
says, linear pieces reach the target too, the rest the input only, and a seed fixes it all."""
from __future__ import annotations

import pytest
import torch

from conftest import toy_config
from sepssl.dsp import chain
from sepssl.errors import ConfigError

RATE = 16000
OFF = dict(eq_p=0.0, telephone_p=0.0, clip_p=0.0, hum_p=0.0, dc_p=0.0)


def _batch(b=6, n=16000, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = 0.1 * torch.randn(b, n, generator=g)
    return x, x[:, None].clone()


def _run(seed=1, **kw):
    x, t = _batch()
    s = chain.ChainSettings(**{**OFF, **kw})
    return x, t, *chain.apply(x, t, RATE, s, torch.Generator().manual_seed(seed))


def test_nothing_on_changes_nothing():
    x, t, a, b = _run()
    assert torch.equal(a, x) and torch.equal(b, t)


def test_same_seed_same_chains():
    on = dict(eq_p=0.5, telephone_p=0.5, clip_p=0.5, hum_p=0.5, dc_p=0.5)
    _, _, a1, b1 = _run(seed=3, **on)
    _, _, a2, b2 = _run(seed=3, **on)
    _, _, a3, _ = _run(seed=4, **on)
    assert torch.equal(a1, a2) and torch.equal(b1, b2) and not torch.equal(a1, a3)


def test_eq_is_the_same_filter_on_input_and_target():
    x, t, a, b = _run(eq_p=1.0, eq_db=6.0)
    assert torch.allclose(a, b[:, 0], atol=1e-6)          # input == target before: still equal
    assert not torch.allclose(a, x, atol=1e-3)
    gain = torch.fft.rfft(a).abs() / torch.fft.rfft(x).abs()
    assert gain.max() <= 10 ** (6.01 / 20) and gain.min() >= 10 ** (-6.01 / 20)


def test_telephone_band_on_both_and_coding_noise_on_the_input_only():
    x, t, a, b = _run(telephone_p=1.0)
    freqs = torch.fft.rfftfreq(x.shape[-1], 1 / RATE)
    out_band = (freqs < 300) | (freqs > 3400)
    spec = torch.fft.rfft(b[:, 0]).abs() ** 2
    assert (spec[:, out_band].sum(-1) / spec.sum(-1)).max() < 1e-10
    err = a - b[:, 0]                                     # the μ-law coding noise
    snr = 10 * torch.log10(b[:, 0].pow(2).sum(-1) / err.pow(2).sum(-1))
    assert ((snr > 15) & (snr < 45)).all(), snr


def test_clipping_hum_and_dc_reach_the_input_only():
    x, t, a, b = _run(clip_p=1.0, clip_fraction=(0.5, 0.5))
    assert torch.equal(b, t)
    assert torch.allclose(a.abs().amax(-1), 0.5 * x.abs().amax(-1))
    x, t, a, b = _run(hum_p=1.0, hum_db=(-20.0, -20.0))
    assert torch.equal(b, t)
    added = a - x
    level = 10 * torch.log10(added.pow(2).mean(-1) / x.pow(2).mean(-1))
    assert torch.allclose(level, torch.full_like(level, -20.0), atol=0.01)
    peak_hz = torch.fft.rfft(added).abs().argmax(-1).float()   # 1 s: bin = Hz
    assert all(int(f) in (50, 60, 100, 120, 150, 180) for f in peak_hz)
    x, t, a, b = _run(dc_p=1.0, dc_db=(-30.0, -30.0))
    offset = (a - x).mean(-1).abs() / x.pow(2).mean(-1).sqrt()
    assert torch.allclose(offset, torch.full_like(offset, 10 ** (-30 / 20)), rtol=1e-3)


def test_mu_law_is_odd_and_bounded():
    x = torch.linspace(-1, 1, 1001)
    y = chain.mu_law(x)
    assert torch.allclose(y, -chain.mu_law(-x)) and y.abs().max() <= 1.0 + 1e-6
    assert (y - x).abs().max() < 0.025                     # coarse steps at full scale ...
    small = x.abs() < 0.01
    assert (y - x)[small].abs().max() < 5e-4               # ... fine ones near zero


def test_options_checked_with_the_config():
    from sepssl.config import load_config

    cfg = load_config(None, ["task.recording_chain.telephone_p=0.3"])
    assert cfg.task.recording_chain.telephone_p == 0.3 and cfg.task.recording_chain.eq_p == 0.5
    with pytest.raises(ConfigError, match=r"task\.recording_chain\.clip_p"):
        load_config(None, ["task.recording_chain.clip_p=1.5"])
    with pytest.raises(ConfigError, match=r"task\.recording_chain"):
        load_config(None, ["task.name=mixit", "task.recording_chain.eq_p=0.1"])


@pytest.mark.slow
def test_a_run_with_the_chain_trains(toy_set, tmp_path):
    from sepssl import load_model
    from sepssl.train import train

    extra = ["task.recording_chain.telephone_p=0.5", "task.recording_chain.clip_p=0.5",
             "task.recording_chain.reverb_p=0.5", "task.recording_chain.reverb_rooms=3",
             "task.recording_chain.codec_p=0.5"]
    model = load_model(train(toy_config(toy_set, tmp_path / "run", "supervised", steps=3,
                                        extra=extra)))
    assert model.card["steps"] == 3
    assert model.card["config"]["task"]["recording_chain"]["telephone_p"] == 0.5


# ---- rooms (`task.recording_chain.reverb_p`) and codecs (`codec_p`) ------------------------

def _voiced(seconds=2.0, seed=0):
    """A speech-like test signal: harmonics of a gliding 120–220 Hz pitch under a syllabic
    envelope, plus a little noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * RATE)) / RATE
    f0 = 120 + 100 * torch.sin(2 * torch.pi * 0.7 * t) ** 2
    phase = 2 * torch.pi * torch.cumsum(f0, 0) / RATE
    x = sum(torch.sin(k * phase) / k for k in range(1, 30))
    x = x * (0.5 + 0.5 * torch.sin(2 * torch.pi * 4 * t)) ** 2
    x = x + 0.01 * torch.randn(len(t), generator=g)
    return (0.3 * x / x.abs().max()).float()


def _lag(y, x):
    """The shift of y against x that lines them up best, in samples (−50…50); a broadband x
    (noise) makes it unambiguous."""
    c = torch.stack([(y[100 + k:-100 + k] * x[100:-100]).sum() for k in range(-50, 51)])
    return int(c.argmax()) - 50


def test_reverberate_advances_each_example_to_its_direct_path():
    from sepssl.dsp.reverb import reverberate

    x = torch.randn(2, 1000)
    rirs = torch.zeros(2, 50)
    rirs[0, 7], rirs[1, 20], rirs[1, 30] = 1.0, 1.0, 0.5   # a delay; a delay and an echo
    y = reverberate(x, rirs, torch.tensor([7, 20]))
    assert torch.allclose(y[0], x[0], atol=1e-5)
    echo = x[1].clone()
    echo[10:] += 0.5 * x[1, :-10]
    assert torch.allclose(y[1], echo, atol=1e-5)


def test_varied_rooms_span_small_rooms_to_halls():
    import numpy as np

    from sepssl.data.rooms import varied_rir

    rng = np.random.default_rng(0)
    rirs = [varied_rir(rng) for _ in range(12)]
    sizes = [r.room[0] for r in rirs]
    assert min(sizes) < 3.0 and max(sizes) > 8.0          # a booth or car, and a hall
    for r in rirs:
        assert r.h[r.direct] == 1.0 and 0.15 < r.distance < 8.5
        # the tail decays about as the room's RT60 says (Sabine; unequal walls stretch it)
        assert 0.6 * r.rt60 < r.rt60_measured < 3.0 * r.rt60
    long = max(rirs, key=lambda r: r.rt60)
    short = min(rirs, key=lambda r: r.rt60)
    assert len(long.h) > 2 * len(short.h)                  # cut where the tail has died


def _chain(seed, **kw):
    from sepssl.tasks.recording_chain import RecordingChainOptions, through_chain

    x = torch.stack([_voiced(seed=i) for i in range(4)])
    t = x[:, None].clone()
    o = RecordingChainOptions(**{**OFF, "reverb_rooms": 4, **kw})
    return x, t, *through_chain(x, t, RATE, o, torch.Generator().manual_seed(seed))


def test_rooms_reach_the_input_only_aligned_with_the_dry_target_and_are_seeded():
    x, t, a, b = _chain(0, reverb_p=1.0)
    assert torch.equal(b, t)
    assert not torch.allclose(a, x, atol=1e-3)
    # the direct path at gain 1 and no delay: the dry signal is what the input holds most of
    gain = (a * x).sum(-1) / x.pow(2).sum(-1)
    assert torch.all((gain > 0.5) & (gain < 1.5))
    assert all(_lag(a[i], x[i]) == 0 for i in range(len(x)))
    assert torch.equal(_chain(0, reverb_p=1.0)[2], a)


def test_rooms_and_codecs_off_draw_nothing():
    # chains drawn before rooms and codecs existed are drawn the same today
    on = dict(eq_p=0.5, telephone_p=0.5, clip_p=0.5, hum_p=0.5, dc_p=0.5)
    x, t, a, b = _chain(5, **on)
    a2, b2 = chain.apply(x, t, RATE, chain.ChainSettings(**on), torch.Generator().manual_seed(5))
    assert torch.equal(a, a2) and torch.equal(b, b2)


def test_g722_round_trip_is_aligned_and_close():
    from sepssl import codecs

    noise = 0.1 * torch.randn(16000, generator=torch.Generator().manual_seed(0))
    assert _lag(torch.from_numpy(codecs.g722_round_trip(noise.numpy())), noise) == 0
    x = _voiced()
    y = torch.from_numpy(codecs.g722_round_trip(x.numpy()))
    assert y.shape == x.shape
    sdr = 10 * torch.log10(x.pow(2).sum() / (y - x).pow(2).sum())
    assert sdr > 10        # 30 dB on corpus speech; the upper band gets 2 bits a sample


def test_opus_round_trip_is_aligned_and_low_bitrates_cut_the_band():
    from sepssl import codecs

    x = _voiced()
    hi = torch.from_numpy(codecs.opus_round_trip(x.numpy(), RATE, 32.0))
    lo = torch.from_numpy(codecs.opus_round_trip(x.numpy(), RATE, 6.0))
    assert hi.shape == lo.shape == x.shape and _lag(hi, x) == 0
    err = lambda y: float((y - x).pow(2).sum() / x.pow(2).sum())  # noqa: E731
    assert err(hi) < err(lo) < 1.0
    band = codecs.codec_band(torch.stack([x, x]), torch.stack([hi, lo]), RATE)
    assert band[0] == RATE / 2 and band[1] <= 5000        # 6 kbit/s is narrowband


def test_codecs_reach_the_input_and_their_cut_band_the_target():
    x, t, a, b = _chain(0, codec_p=1.0, codecs=["opus"], opus_kbps=(6.0, 6.0))
    assert not torch.allclose(a, x, atol=1e-3)
    spectrum = torch.fft.rfft(b[:, 0]).abs()
    freqs = torch.fft.rfftfreq(x.shape[-1], 1 / RATE)
    assert spectrum[:, freqs > 5500].max() < 1e-3 * spectrum.max()   # the band Opus cut
    low = freqs < 3000
    assert torch.allclose(torch.fft.rfft(b[:, 0])[:, low], torch.fft.rfft(t[:, 0])[:, low],
                          atol=1e-2)


def test_codecs_need_a_rate_they_code():
    from sepssl.tasks.recording_chain import RecordingChainOptions, through_chain

    x = torch.randn(2, 4410)
    o = RecordingChainOptions(**OFF, codec_p=1.0, codecs=["g722"])
    with pytest.raises(ConfigError, match="G.722 codes 16000 Hz only"):
        through_chain(x, x[:, None], 44100, o)
    with pytest.raises(ConfigError, match="Opus codes"):
        through_chain(x, x[:, None], 44100, RecordingChainOptions(**OFF, codec_p=1.0,
                                                                  codecs=["opus"]))


def test_codec_options_checked_with_the_config():
    from sepssl.config import load_config

    cfg = load_config(None, ["task.recording_chain.codecs=[opus]",
                             "task.recording_chain.codec_p=0.2"])
    assert cfg.task.recording_chain.codecs == ["opus"]
    with pytest.raises(ConfigError, match=r"task\.recording_chain\.codecs"):
        load_config(None, ["task.recording_chain.codecs=[mp3]"])
    with pytest.raises(ConfigError, match=r"task\.recording_chain\.codecs"):
        load_config(None, ["task.recording_chain.codecs=[]"])
