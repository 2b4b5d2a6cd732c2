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

    extra = ["task.recording_chain.telephone_p=0.5", "task.recording_chain.clip_p=0.5"]
    model = load_model(train(toy_config(toy_set, tmp_path / "run", "supervised", steps=3,
                                        extra=extra)))
    assert model.card["steps"] == 3
    assert model.card["config"]["task"]["recording_chain"]["telephone_p"] == 0.5
