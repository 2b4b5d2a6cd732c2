"""Real speech: the Asterisk prompt packages (fr, it, ru), decoded from G.722 to 16 kHz.

Why: the only real recorded speech the project's data rules (DATA.md) allow. Each package is
one studio voice (fr_CA_f_June, it_IT_m_Carlo, ru_RU_f_IvrvoiceRU), so a package is a speaker.
Prompts are short, so clips are built by joining a speaker's prompts with short pauses.
Decoded prompts are cached as one .npz per package version.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..files import atomic_write
from .debian import Package
from .tts import trim_silence

SAMPLE_RATE = 16000
PACKAGES = ("asterisk-core-sounds-fr-g722", "asterisk-core-sounds-it-g722",
            "asterisk-core-sounds-ru-g722")
#: Prompts that are tones, silence or animal noises, not speech.
_NOT_SPEECH = re.compile(r"^(beep|beeperr|ascending-2tone|descending-2tone|tt-monkeys)\.g722$")
CACHE_TAG = "v2"      # bump when the selection or decoding of prompts changes


@dataclass
class SpeakerBank:
    """All decoded prompts of one speaker (one package)."""
    speaker: str                 # e.g. fr_CA_f_June
    package: str
    utterances: list[np.ndarray]  # float32, 16 kHz, silence-trimmed

    @property
    def seconds(self) -> float:
        """Total duration of the utterances, in seconds."""
        return sum(len(u) for u in self.utterances) / SAMPLE_RATE


def load(pkg: Package, cache_dir: Path) -> SpeakerBank:
    """Decode (or load from cache) every speech prompt of an asterisk g722 package.

    Prompts are silence-trimmed; very short or near-silent ones are dropped.

    Args:
        pkg (Package): An unpacked asterisk-core-sounds-*-g722 package.
        cache_dir (Path): Cache folder (decoded prompts go to its `decoded/`).

    Returns:
        SpeakerBank: The speaker's prompts, float32 at 16 kHz.

    Raises:
        DataError: If the package holds no .g722 files or the g722 module is missing.
    """
    cache = Path(cache_dir).expanduser() / "decoded" / f"{pkg.name}_{pkg.version}.{CACHE_TAG}.npz"
    files = sorted(f for f in pkg.root.rglob("*.g722") if not _NOT_SPEECH.search(f.name)
                   and f.parent.name != "silence")
    if not files:
        raise DataError(f"{pkg.name}: no .g722 files in {pkg.root}; delete that folder and "
                        f"build again")
    parts = files[0].relative_to(pkg.root).parts
    speaker = parts[parts.index("sounds") + 1] if "sounds" in parts[:-1] else pkg.name
    if cache.exists():
        with np.load(cache) as z:
            flat, offsets = z["pcm"], z["offsets"]
        utts = [flat[a:b].astype(np.float32) / 32768.0 for a, b in zip(offsets[:-1], offsets[1:])]
        return SpeakerBank(speaker, pkg.name, utts)
    try:
        import G722
    except ImportError:
        raise DataError("the G722 module is missing: pip install g722") from None
    utts = []
    for f in files:
        pcm = np.asarray(G722.G722(SAMPLE_RATE, 64000).decode(f.read_bytes()), dtype=np.int16)
        x = trim_silence(pcm.astype(np.float64) / 32768.0, SAMPLE_RATE, floor_db=-45.0)
        if len(x) >= int(0.3 * SAMPLE_RATE) and np.abs(x).max() > 1e-3:
            utts.append(x.astype(np.float32))
    ints = [np.round(u * 32768.0).clip(-32768, 32767).astype(np.int16) for u in utts]
    offsets = np.concatenate([[0], np.cumsum([len(u) for u in ints])]).astype(np.int64)
    with atomic_write(cache) as tmp, open(tmp, "wb") as f:
        np.savez(f, pcm=np.concatenate(ints), offsets=offsets)
    return SpeakerBank(speaker, pkg.name, [i.astype(np.float32) / 32768.0 for i in ints])


def clip(bank: SpeakerBank, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A clip of one speaker: random prompts joined by 0.1–0.4 s pauses, or a random window of
    one long prompt.

    Args:
        bank (SpeakerBank): The speaker.
        seconds (float): Clip length, in seconds.
        rng (numpy.random.Generator): Random generator.

    Returns:
        numpy.ndarray: Float32 clip at 16 kHz, `int(seconds * 16000)` samples.
    """
    n = int(seconds * SAMPLE_RATE)
    first = bank.utterances[int(rng.integers(len(bank.utterances)))]
    if len(first) >= n:
        start = int(rng.integers(len(first) - n + 1))
        return first[start:start + n].copy()
    parts = [first]
    total = len(first)
    while total < n:
        gap = np.zeros(int(rng.uniform(0.1, 0.4) * SAMPLE_RATE), np.float32)
        u = bank.utterances[int(rng.integers(len(bank.utterances)))]
        parts += [gap, u]
        total += len(gap) + len(u)
    return np.concatenate(parts)[:n]
