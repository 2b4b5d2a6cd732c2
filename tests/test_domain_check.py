"""The check of clean stretches (`sepssl.domain_check`): references are the cleanest
recordings, the noise is the other recordings' pauses, the SNRs are the recordings' own."""
import math

import numpy as np
import pytest
import torch

from sepssl.domain_check import check_scores, clean_stretch_pairs, estimated_snr_db

from conftest import RATE, noise, voiced

pytestmark = pytest.mark.usefixtures("one_thread")


def speech_with_pauses(seed: int) -> torch.Tensor:
    """4 s: speech in seconds 0 and 2, silence in 1 and 3."""
    on = np.repeat(np.arange(4) % 2 == 0, RATE).astype(np.float32)
    return torch.from_numpy(on * voiced(4.0, seed=seed))


def mixture(seed: int, snr_db: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A recording at `snr_db` (speech power where it is not 0 over the noise's), and its speech."""
    s = speech_with_pauses(seed)
    n = torch.from_numpy(noise(4.0, seed=100 + seed))
    active = s[s != 0].square().mean()
    n = n * (active / n.square().mean() / 10 ** (snr_db / 10)).sqrt()
    return s + n, s


def test_the_snr_is_estimated_from_the_pauses():
    for snr in (0.0, 10.0, 20.0):
        y, s = mixture(0, snr)
        free = s.abs() < 1e-9
        assert estimated_snr_db(y, free) == pytest.approx(snr, abs=1.0)
    assert math.isnan(estimated_snr_db(y, torch.zeros_like(free)))     # no pause: unknown


def test_references_are_the_cleanest_and_the_mixtures_as_noisy_as_the_recordings():
    snrs = [25.0, 22.0, 18.0, 16.0, 12.0, 5.0, 0.0, 3.0]
    recs = [mixture(i, snr) for i, snr in enumerate(snrs)]
    check = clean_stretch_pairs([y for y, _ in recs], [s for _, s in recs], RATE, seed=0,
                                per_reference=3)
    assert check.references == [0, 1, 2, 3]            # ≥ 15 dB, the cleanest first
    assert len(check.pairs) == 12 and check.noise_seconds > 0
    others = [12.0, 5.0, 0.0, 3.0]
    for i, (noisy, ref) in enumerate(check.pairs):
        k = check.references[i // 3]
        assert torch.equal(ref, recs[k][0])             # the recording itself is the reference
        added = noisy - ref
        speaking = recs[k][1] != 0
        snr = float(10 * torch.log10(ref[speaking].square().mean() / added.square().mean()))
        # one of the other recordings' SNRs (as estimated), at most the reference's less 10 dB
        assert min(abs(snr - o) for o in others + [snrs[k] - 10]) < 1.5
        assert snr <= snrs[k] - 10 + 1.5                  # its own noise stays 10 dB below
    again = clean_stretch_pairs([y for y, _ in recs], [s for _, s in recs], RATE, seed=0,
                                per_reference=3)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(check.pairs, again.pairs))


def test_without_pauses_there_is_no_check():
    recs = [torch.from_numpy(voiced(2.0, seed=i) + noise(2.0, seed=i)) for i in range(4)]
    check = clean_stretch_pairs(recs, recs, RATE)       # the estimate keeps everything: no pause
    assert check.pairs == [] and check.references == []


def test_a_better_enhancer_scores_higher():
    recs = [mixture(i, snr) for i, snr in enumerate([25.0, 22.0, 20.0, 18.0, 5.0, 0.0])]
    check = clean_stretch_pairs([y for y, _ in recs], [s for _, s in recs], RATE, least=2)
    refs = {id(noisy): ref for noisy, ref in check.pairs}
    oracle = check_scores(lambda wav, rate: refs[id(wav)], check, RATE)
    identity = check_scores(lambda wav, rate: wav, check, RATE)
    silent = check_scores(lambda wav, rate: 0.01 * torch.randn_like(wav), check, RATE)
    assert oracle["stoi"] > identity["stoi"] > silent["stoi"]
    assert oracle["si_sdr"] > identity["si_sdr"] > silent["si_sdr"]


def test_the_cleanest_and_some_others_with_pauses_are_held_back():
    from sepssl.domain_check import worth_holding_back

    snrs = [5.0, 25.0, 0.0, 20.0, 10.0, 3.0]
    recs = [mixture(i, snr) for i, snr in enumerate(snrs)]
    ys, ss = [y for y, _ in recs], [s for _, s in recs]
    no_pause = torch.from_numpy(voiced(4.0, seed=9) + noise(4.0, seed=9))
    ys.append(no_pause)
    ss.append(no_pause)                                  # keeps everything: no pause
    held = worth_holding_back(ys, ss, RATE, count=4, seed=0)
    assert held[:2] == [1, 3] and len(held) == 4 == len(set(held))     # 25 and 20 dB first
    assert set(held[2:]) <= {0, 2, 4, 5}                 # then others with pauses, never #6
    assert worth_holding_back(ys, ss, RATE, count=4, seed=0) == held
    assert len(worth_holding_back(ys, ss, RATE, count=20)) == 6        # all that have pauses
