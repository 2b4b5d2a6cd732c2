"""Simulated room impulse responses (pyroomacoustics shoebox rooms) and their application.

Why: real recordings are reverberant; a fraction of the premixed speech is convolved with a
random room. Convention: the clean reference stays the *dry* speech, time-aligned with the
direct path of the reverberant image (the convolution output is advanced by the direct-path
delay), at the direct path's gain (the RIR is scaled so its direct-path peak is 1). So clean and
noisy have no delay between them, and a supervised model learns to dereverberate as well.

pyroomacoustics does the simulation; the alignment and scaling are done here because they are
this corpus's convention, not something a library offers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from ..errors import DataError

SAMPLE_RATE = 16000


@dataclass
class Rir:
    """A simulated room impulse response and the facts of its room, at 16 kHz."""
    h: np.ndarray        # float32, direct-path peak = 1 at index `direct`
    direct: int
    rt60: float          # target (Sabine)
    rt60_measured: float  # from the simulated decay (T30), for the record
    room: tuple[float, float, float]
    distance: float
    rate: int = SAMPLE_RATE

    def describe(self) -> dict:
        """The room's facts (RT60 in s, sizes and distance in m, RIR length in s), rounded."""
        return {"rt60_target": round(self.rt60, 3), "rt60_measured": round(self.rt60_measured, 3),
                "room_m": [round(v, 2) for v in self.room],
                "distance_m": round(self.distance, 2),
                "length_s": round(len(self.h) / self.rate, 3)}


def _pyroomacoustics():
    try:
        import pyroomacoustics as pra
    except ImportError:
        raise DataError("pyroomacoustics is missing: pip install pyroomacoustics") from None
    return pra


def _simulate(room, materials, order: int, src, mic, rate: int) -> tuple[np.ndarray, int]:
    """One source and one microphone in a shoebox room: the RIR scaled so that its
    direct-path peak is 1 (float64), and that peak's index."""
    pra = _pyroomacoustics()
    r = pra.ShoeBox(room, fs=rate, materials=materials, max_order=order)
    r.add_source(src)
    r.add_microphone(mic)
    r.compute_rir()
    h = np.asarray(r.rir[0][0], dtype=np.float64)
    direct = int(np.argmax(np.abs(h)))
    return h / h[direct], direct


def _measured_rt60(h: np.ndarray, rate: int) -> float:
    """The RIR's RT60 from its decay (T30), for the record; NaN when it cannot be measured."""
    try:
        from pyroomacoustics.experimental import measure_rt60
        return float(measure_rt60(h, fs=rate, decay_db=30))
    except Exception:  # the record is optional; never fail a build on it
        return float("nan")


def random_rir(rng: np.random.Generator, rt60_range=(0.2, 0.8), max_order: int = 60) -> Rir:
    """Simulate the RIR of a random shoebox room, source and microphone at random positions.

    Args:
        rng (numpy.random.Generator): Random generator.
        rt60_range (tuple[float, float], optional): Range of target RT60s, in seconds.
            (Default: ``(0.2, 0.8)``)
        max_order (int, optional): Largest image-source reflection order. (Default: ``60``)

    Returns:
        Rir: The RIR, scaled so that its direct-path peak is 1.

    Raises:
        DataError: If pyroomacoustics is not installed.
    """
    pra = _pyroomacoustics()
    room = (float(rng.uniform(3, 10)), float(rng.uniform(3, 8)), float(rng.uniform(2.4, 4)))
    rt60 = float(rng.uniform(*rt60_range))
    try:
        absorption, order = pra.inverse_sabine(rt60, list(room))
    except ValueError:            # room too large for this RT60: fall back on a livelier one
        absorption, order = pra.inverse_sabine(max(rt60, 0.5), list(room))
    margin = 0.5
    pos = lambda: [float(rng.uniform(margin, d - margin)) for d in room]  # noqa: E731
    src, mic = pos(), pos()
    src[2] = float(rng.uniform(1.2, 1.9))
    mic[2] = float(rng.uniform(0.8, 2.0))
    h, direct = _simulate(list(room), pra.Material(absorption), int(min(order, max_order)),
                          src, mic, SAMPLE_RATE)
    return Rir(h.astype(np.float32), direct, rt60, _measured_rt60(h, SAMPLE_RATE), room,
               float(np.linalg.norm(np.subtract(src, mic))))


#: The room kinds of `varied_rir`: sizes (m), RT60 range (s) and source–microphone distance
#: range (m), from a car or a booth through living rooms and offices to halls and churches.
ROOM_KINDS = {
    "small": dict(size=((1.5, 3.0), (1.2, 2.5), (1.1, 2.5)), rt60=(0.08, 0.4), distance=(0.2, 0.8)),
    "room": dict(size=((3.0, 8.0), (2.5, 6.0), (2.3, 3.5)), rt60=(0.2, 0.9), distance=(0.3, 3.0)),
    "hall": dict(size=((8.0, 25.0), (6.0, 18.0), (3.5, 10.0)), rt60=(0.6, 1.5),
                 distance=(1.0, 8.0)),
}
WALLS = ("east", "west", "north", "south", "floor", "ceiling")


def varied_rir(rng: np.random.Generator, rate: int = SAMPLE_RATE, max_order: int = 60) -> Rir:
    """A random room of a random kind (`ROOM_KINDS`, equally likely), walls of unequal
    absorption (each the Sabine mean times 0.5…1.5) and the source at a random distance in any
    direction from the microphone: wider than the corpus's `random_rir`, for the on-device
    rooms of the recording chain (`task.recording_chain.reverb_p`).

    Args:
        rng: Random generator.
        rate: Sample rate of the RIR in Hz.
        max_order: Largest image-source order: the order the room's RT60 needs (Sabine), up
            to this (the simulation's time grows with its cube; the small, lively rooms need
            the highest orders, since their walls are close).

    Returns:
        Rir: The RIR, its direct-path peak 1, cut where its energy has fallen by 60 dB.
    """
    pra = _pyroomacoustics()
    kind = ROOM_KINDS[list(ROOM_KINDS)[int(rng.integers(len(ROOM_KINDS)))]]
    room = [float(rng.uniform(*r)) for r in kind["size"]]
    rt60 = float(rng.uniform(*kind["rt60"]))
    try:
        absorption, order = pra.inverse_sabine(rt60, room)
    except ValueError:            # this room cannot be that dry: its walls absorb all they can
        absorption, order = 0.95, 10
    walls = {w: pra.Material(float(np.clip(absorption * rng.uniform(0.5, 1.5), 0.01, 0.99)))
             for w in WALLS}
    margin = 0.25
    mic = np.array([rng.uniform(margin, d - margin) for d in room])
    mic[2] = np.clip(rng.uniform(0.7, 2.0), margin, room[2] - margin)
    for _ in range(100):          # a source at the drawn distance, inside the room
        distance = float(rng.uniform(*kind["distance"]))
        direction = rng.normal(size=3)
        src = mic + distance * direction / np.linalg.norm(direction)
        if all(margin <= v <= d - margin for v, d in zip(src, room)):
            break
    else:                         # nothing fits at that distance: the room's far corner
        src = np.array([d - margin if m < d / 2 else margin for m, d in zip(mic, room)])
    h, direct = _simulate(room, walls, int(min(order, max_order)), src.tolist(), mic.tolist(),
                          rate)
    energy = np.cumsum(h[::-1] ** 2)[::-1]                 # what is left from each sample on
    end = int(np.searchsorted(-energy, -energy[0] * 1e-6)) + 1
    h = h[:max(end, direct + 1)]
    return Rir(h.astype(np.float32), direct, rt60, _measured_rt60(h, rate), tuple(room),
               float(np.linalg.norm(src - mic)), rate)


def reverberate(x: np.ndarray, rir: Rir) -> np.ndarray:
    """Convolve `x` with an RIR, aligned so that the direct path coincides with `x`.

    Args:
        x (numpy.ndarray): Dry signal, shape `(time,)`.
        rir (Rir): The room.

    Returns:
        numpy.ndarray: Float32 reverberant signal, same length as `x`.
    """
    y = fftconvolve(x.astype(np.float64), rir.h.astype(np.float64))
    return y[rir.direct:rir.direct + len(x)].astype(np.float32)
