"""A check set built from the user's own noisy recordings, that trusts no teacher.

`sepssl adapt` must decide, without clean speech, whether the adapted student is better than
the one it started from. Agreement with the teacher cannot decide it (a teacher that is wrong
in the whole domain passes). Here the recordings themselves supply both parts of a scored
mixture: the cleanest recordings are the references (their SNR estimated from the power in their
pauses against the power elsewhere), and noise mined from the other recordings' pauses is added
to them at a drawn SNR. A better enhancer gives the reference back better: in the user's voice,
channel, room and noise. What it cannot see: what the references themselves hold (when every
recording is noisy, the cleanest are still the references, their noise and all; it leans
towards models that keep a little noise), reverberation (the reference is the recording, room
and all), and noise that never pauses (no pauses, no check). How far it agrees with scores
against clean speech: `metrics/adapt_guard/README.md`.

The pauses are found by an enhancer's speech estimate (`sepssl.dsp.activity.speech_free`); in
`sepssl adapt` the shipped default's, which is neither the student nor (usually) the teacher:
it only says where nobody speaks, the references and the noise are the recordings' own.
Hand-written: no library builds a scored test set out of unlabeled recordings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from .dsp import activity

MIN_PAUSE_SECONDS = 0.25
CHECK_METRICS = ("stoi", "si_sdr")


@dataclass
class CheckSet:
    """Noisy / reference pairs `(time,)`, the references' estimated SNRs (dB), the recordings
    they came from (indices), and the seconds of mined noise they were mixed with."""

    pairs: list[tuple[torch.Tensor, torch.Tensor]]
    reference_snr_db: list[float]
    references: list[int]
    noise_seconds: float


def estimated_snr_db(recording: torch.Tensor, free: torch.Tensor) -> float:
    """SNR (dB) of `recording (time,)` from its pauses (`free`, boolean `(time,)`): noise power
    in them, speech + noise power elsewhere; NaN without both."""
    if int(free.sum()) == 0 or bool(free.all()):
        return float("nan")
    noise = recording[free].square().mean()
    total = recording[~free].square().mean()
    return float(10 * torch.log10(((total - noise) / noise).clamp(min=1e-3)))


def _pauses(recordings: list[torch.Tensor], speech: list[torch.Tensor], rate: int
            ) -> tuple[list[torch.Tensor], list[float], list[int]]:
    """Each recording's pauses (boolean `(time,)`) and estimated SNR (dB), and the recordings
    with pauses, the cleanest first."""
    frees = [activity.speech_free(y, s, rate, min_seconds=MIN_PAUSE_SECONDS)
             for y, s in zip(recordings, speech)]
    snrs = [estimated_snr_db(y, f) for y, f in zip(recordings, frees)]
    known = sorted((k for k, v in enumerate(snrs) if not math.isnan(v)), key=lambda k: -snrs[k])
    return frees, snrs, known


def worth_holding_back(recordings: list[torch.Tensor], speech: list[torch.Tensor], rate: int,
                       count: int, seed: int = 0) -> list[int]:
    """Which recordings to hold back from training for the check, best first: half of `count`
    the cleanest (the references), the rest drawn among the others with pauses (the noise, and
    the SNRs the mixtures are made at). Held back at random instead, short recordings with
    pauses are too few: 10 of corpus v2's 3.6 s clips held in 50 left one reference.

    Args:
        recordings, speech, rate: as for `clean_stretch_pairs`.
        count: how many to choose (fewer when fewer recordings have pauses).
        seed: seeds the draw.
    Returns:
        Indices into `recordings`.
    """
    _, _, known = _pauses(recordings, speech, rate)
    clean = known[:count // 2]
    rest = known[count // 2:]
    order = torch.randperm(len(rest), generator=torch.Generator().manual_seed(seed)).tolist()
    return clean + [rest[i] for i in order[:count - len(clean)]]


def clean_stretch_pairs(recordings: list[torch.Tensor], speech: list[torch.Tensor], rate: int,
                        seed: int = 0, min_snr_db: float = 15.0, least: int = 4,
                        most: int = 20, per_reference: int = 3, margin_db: float = 10.0
                        ) -> CheckSet:
    """The check set (module docstring) of `recordings`.

    Args:
        recordings: `(time,)` each, at `rate`.
        speech: an enhancer's speech estimate of each, same shapes (finds the pauses).
        rate: their sample rate.
        seed: seeds the noise excerpts and SNRs.
        min_snr_db: recordings estimated at least this clean become references (at least
            `least` of the cleanest, at most `most` and half of those with pauses: the others'
            pauses are the noise). The reference's own noise counts as speech in the score, so
            it must lie well below the noise added.
        per_reference: mixtures made of each reference (other excerpts, other SNRs).
        margin_db: each mixture's SNR is one of the other recordings' estimated SNRs (so that
            the check is as noisy as the recordings are), at most the reference's own less
            this margin.
    Returns:
        The `CheckSet`; empty pairs when fewer than two recordings have pauses.
    """
    frees, snrs, known = _pauses(recordings, speech, rate)
    if len(known) < 2:
        return CheckSet([], [], [], 0.0)
    clean = sum(snrs[k] >= min_snr_db for k in known)
    # at most half of them (the rest are the noise and its SNRs), and `most`
    refs = known[:min(len(known) - 1, max(least, min(clean, len(known) // 2, most)))]
    fade = round(0.005 * rate)
    pool = [activity.join_stretches(recordings[k], frees[k], fade)
            for k in range(len(recordings)) if k not in set(refs)]
    noise = torch.cat([n for n in pool if n.numel()])
    others = [snrs[k] for k in known if k not in set(refs)]
    g = torch.Generator().manual_seed(seed)
    pairs = []
    for k in refs:
        ref = recordings[k]
        for _ in range(per_reference):
            start = int(torch.randint(0, noise.numel(), (1,), generator=g))
            excerpt = noise.roll(-start).repeat(ref.numel() // noise.numel() + 1)[: ref.numel()]
            snr = min(others[int(torch.randint(0, len(others), (1,), generator=g))],
                      snrs[k] - margin_db)
            # power where it speaks, as the recordings' SNRs were estimated
            gain = (ref[~frees[k]].square().mean() / (excerpt.square().mean() + 1e-12)
                    / 10 ** (snr / 10)).sqrt()
            pairs.append((ref + gain * excerpt, ref))
    return CheckSet(pairs, [snrs[k] for k in refs], refs, noise.numel() / rate)


def check_rows(enhance: Callable[[torch.Tensor, int], torch.Tensor],
               pairs: list[tuple[torch.Tensor, torch.Tensor]], rate: int
               ) -> dict[str, list[float]]:
    """STOI and SI-SDR (dB) of an enhancer on each (noisy, reference) pair.

    Args:
        enhance: `(time,)` and the rate in, `(time,)` out (a teacher's `enhance`, or a model
            wrapped the same way: `sepssl.adapt.as_enhancer`).
        pairs: `(time,)` tensors, e.g. a `CheckSet`'s.
        rate: their sample rate.
    Returns:
        `{"stoi": [...], "si_sdr": [...]}`, one value per pair (NaN where it cannot be scored,
        e.g. STOI of under 30 frames).
    """
    from .evaluation.metrics import score_pair

    rows = [score_pair(ref, enhance(noisy, rate), rate, CHECK_METRICS) for noisy, ref in pairs]
    return {m: [r[m] for r in rows] for m in CHECK_METRICS}


def finite_mean(values: list[float]) -> float:
    """The mean of the finite values; NaN when there is none."""
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def check_scores(enhance: Callable[[torch.Tensor, int], torch.Tensor], check: CheckSet,
                 rate: int) -> dict[str, float]:
    """Mean STOI and SI-SDR (dB) of an enhancer on the check set (`check_rows`, averaged over
    the pairs that could be scored): `{"stoi": mean, "si_sdr": mean}`."""
    return {m: finite_mean(v) for m, v in check_rows(enhance, check.pairs, rate).items()}
