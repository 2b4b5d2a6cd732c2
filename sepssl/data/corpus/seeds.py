"""Seeds derived from the corpus seed and a few keys.

Why: every random choice of the build (voices, noise split, jobs, each file) draws from its own
generator, seeded from the corpus seed and a key naming what it is for. Files then do not depend
on the order jobs run in, on the number of workers, or on what else the build draws, and the
same seed gives the same corpus on any machine.
"""
from __future__ import annotations

import zlib

import numpy as np


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed from the corpus seed and any keys.

    Args:
        seed: the corpus seed.
        *keys: what the seed is for (strings, ints); each enters as the CRC-32 of its `str`.

    Returns:
        A non-negative int below 2**63, the same for the same arguments on every run and machine.
    """
    ss = np.random.SeedSequence([seed] + [zlib.crc32(str(k).encode()) for k in keys])
    return int(ss.generate_state(2, np.uint64)[0] >> np.uint64(1))


def derive_rng(seed: int, *keys: object) -> np.random.Generator:
    """A numpy Generator seeded with `derive_seed(seed, *keys)`.

    Args:
        seed: the corpus seed.
        *keys: what the generator is for.

    Returns:
        A fresh `numpy.random.Generator`.
    """
    return np.random.default_rng(derive_seed(seed, *keys))
