"""Noise mined from pauses (`dsp.activity`): the speech-free mask found from a speech estimate,
its widening and shortest run, and the joined stretches."""
import pytest
import torch

from sepssl.dsp import activity

from conftest import RATE, noise, voiced

pytestmark = pytest.mark.usefixtures("one_thread")


def speech_in(spans: list[tuple[float, float]], seconds: float) -> torch.Tensor:
    """A loud broadband signal within `spans` (seconds), silence elsewhere: a speech estimate
    whose support is exactly known."""
    out = torch.zeros(int(seconds * RATE))
    g = torch.Generator().manual_seed(0)
    for a, b in spans:
        out[int(a * RATE):int(b * RATE)] = 0.2 * torch.randn(int(b * RATE) - int(a * RATE), generator=g)
    return out


def test_speech_free_is_where_the_estimate_has_nothing_widened_and_without_short_runs():
    speech = speech_in([(1.0, 2.0), (2.2, 3.0)], 5.0)
    noisy = speech + torch.from_numpy(noise(5.0, seed=3))
    free = activity.speech_free(noisy, speech, RATE, guard_seconds=0.1, min_seconds=0.25)
    assert free.shape == noisy.shape and free.dtype == torch.bool
    at = lambda s: bool(free[int(s * RATE)])
    assert at(0.5) and at(4.0)                      # long pauses
    assert not at(1.5) and not at(2.5)              # speech
    assert not at(0.95) and not at(3.05)            # the 0.1 s widening around speech
    assert not at(2.1)                              # a 0.2 s gap: widened away entirely
    assert not free[speech != 0].any()              # no speech sample is ever mined


def test_speech_free_finds_nothing_when_the_estimate_keeps_everything():
    noisy = torch.from_numpy(voiced(3.0) + noise(3.0))
    assert not activity.speech_free(noisy, noisy, RATE).any()
    assert activity.join_stretches(noisy, torch.zeros(noisy.shape, dtype=torch.bool), 80).numel() == 0


def test_runs_and_joined_stretches_keep_only_the_masked_samples_crossfaded():
    mask = torch.tensor([0, 1, 1, 1, 0, 0, 1, 1, 0], dtype=torch.bool)
    assert activity.runs(mask) == [(1, 4), (6, 8)]
    assert activity.runs(torch.ones(3, dtype=torch.bool)) == [(0, 3)]
    wav = torch.cat([torch.ones(1000), torch.full((1000,), 3.0)])
    mask = torch.zeros(2000, dtype=torch.bool)
    mask[100:600] = True          # 500 samples of 1
    mask[1000:1400] = True        # 400 samples of 3
    joined = activity.join_stretches(wav, mask, fade=80)
    assert joined.shape == (500 + 400 - 80,)
    assert torch.equal(joined[:420], torch.ones(420)) and torch.equal(joined[500:], torch.full((320,), 3.0))
    middle = joined[420:500]      # the crossfade: from one level to the other, no dip
    assert torch.all(middle >= 1) and torch.all(middle <= 3) and torch.all(middle.diff() >= 0)


@pytest.mark.parametrize("pause, kept", [(0.26, True), (0.24, False)])
def test_a_pause_shorter_than_min_seconds_is_not_mined(pause, kept):
    speech = speech_in([(0.0, 1.0), (1.0 + pause, 2.0 + pause)], 2.0 + pause)
    noisy = speech + 0.01 * torch.randn(speech.shape, generator=torch.Generator().manual_seed(1))
    free = activity.speech_free(noisy, speech, RATE, guard_seconds=0.0,
                                min_seconds=0.25)
    assert bool(free.any()) == kept
