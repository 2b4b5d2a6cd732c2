"""Real speech: recorded human voices from Debian packages, one bank per voice, at 16 kHz.

Why: real voices are what the corpus most lacks, and DATA.md allows any Debian package that
carries recorded human speech. Each package has its own layout, so a `VoiceSource` says, as a
pure function of a file's path inside the package, which voice (one person) a clip belongs to
and in which language, or that it is not speech. Every voice of a package goes to the
package's split, so no voice and no package is in two splits. Prompts and words are short:
clips are built by joining one voice's utterances with short pauses (`clip`).

The rules come from the survey in `metrics/corpus_v2_survey.md` (per-voice F0, band edges,
the packages' own credits); clips that are one person by those checks are kept, the rest
(other characters, mixed-speaker folders, numbers recorded by others) are left out. Decoded
utterances are cached as one .npz per package version.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from .. import audio
from ..errors import AudioError, DataError
from ..files import atomic_write
from .debian import Package
from .tts import trim_silence

SAMPLE_RATE = 16000
CACHE_TAG = "v3"      # bump when the selection or decoding of utterances changes
#: Asterisk prompts that are tones, silence or animal noises, not speech.
_NOT_SPEECH = re.compile(r"^(beep|beeperr|ascending-2tone|descending-2tone|tt-monkeys)\.")
#: Languages whose klettres folder is one person by F0 (survey: lt, nds, nl, ru mix two;
#: pt_BR and tn are children of unknown number).
_KLETTRES = ("ar", "cs", "da", "de", "en", "en_GB", "es", "fr", "he", "hu", "it", "ml", "nb",
             "uk")
#: Tux Paint languages with one named recorder each (the package's changelog).
_TUXPAINT = ("be", "bg", "ca", "da", "el", "es", "ro", "ru")


def asterisk_voice(rel: str) -> tuple[str, str] | None:
    """An Asterisk prompt set: the folder after `sounds/` is the voice (e.g. fr_CA_f_June)."""
    p = PurePosixPath(rel)
    if "sounds" not in p.parts[:-2] or "silence" in p.parts or _NOT_SPEECH.search(p.name):
        return None
    if p.suffix not in (".g722", ".gsm", ".wav"):
        return None
    voice = p.parts[p.parts.index("sounds") + 1]
    return voice, voice.split("_")[0]


def armelle_voice(rel: str) -> tuple[str, str] | None:
    """asterisk-prompt-fr-armelle keeps its prompts in `sounds/fr/`: name the voice."""
    return ("fr_FR_f_Armelle", "fr") if asterisk_voice(rel) else None


def fillets_voice(rel: str) -> tuple[str, str] | None:
    """Fish Fillets dialogue `sound/<level>/<lang>/<level>-<m|v>-<line>.ogg`: m is the small
    fish, v the big one (two actors per language); other characters are left out."""
    m = re.search(r"/sound/[^/]+/([a-z]{2})/[^/-]+-([mv])-[^/]+\.ogg$", rel)
    if not m:
        return None
    return f"fillets_{m[1]}_{'small' if m[2] == 'm' else 'big'}", m[1]


def tuxpaint_voice(rel: str) -> tuple[str, str] | None:
    """Tux Paint stamp descriptions `NAME_desc_<lang>.ogg`, outside `stamps/symbols/` (numbers
    by other speakers), in the languages with one recorder."""
    m = re.search(r"/stamps/(?!symbols/).*_desc_([A-Za-z_]+)\.ogg$", rel)
    if not m or m[1] not in _TUXPAINT:
        return None
    return f"tuxpaint_{m[1]}", m[1]


def klettres_voice(rel: str) -> tuple[str, str] | None:
    """KLettres letters and syllables `klettres/<lang>/{alpha,syllab}/*.ogg`; de's alpha and
    syllab folders are two people."""
    m = re.search(r"/klettres/([A-Za-z_]+)/(alpha|syllab)/[^/]+\.ogg$", rel)
    if not m or m[1] not in _KLETTRES:
        return None
    return (f"klettres_de_{m[2]}" if m[1] == "de" else f"klettres_{m[1]}"), m[1].split("_")[0]


def kajongg_voice(rel: str) -> tuple[str, str] | None:
    """Kajongg's Mah Jongg calls `voices/[de/]<male1|male2|female1|female2>/*.ogg`."""
    m = re.search(r"/kajongg/voices/(?:(de)/)?((?:fe)?male\d)/[^/]+\.ogg$", rel)
    if not m:
        return None
    lang = m[1] or "en"
    return f"kajongg_{lang}_{m[2]}", lang


@dataclass(frozen=True)
class VoiceSource:
    """A Debian package of recorded speech and how to read it.

    Attributes:
        package: the Debian package.
        split: the split every voice of the package goes to.
        voice_of: path inside the package -> (voice id, language), or None: not speech.
        licence: the audio's licence, from the package's copyright file.
        decode: "g722" (64 kbit/s G.722), "gsm" (raw GSM 06.10 at 8 kHz) or "soundfile".
    """
    package: str
    split: str
    voice_of: Callable[[str], tuple[str, str] | None]
    licence: str
    decode: str = "soundfile"


#: Every real-speech source, in build order. Package-disjoint splits: train holds the long
#: wideband material, valid the two narrowband / short-call sets, test many unseen voices
#: and languages (see metrics/corpus_v2_survey.md, "Plan").
_MENARDI = ("CC-BY-SA-3.0 Italy; attribution: Marco Menardi e Paola Dal Zot, "
            "www.voip.ammdomus.it")
_ARMELLE = "BSD-style permissive, (c) 2006 Michel Gutierrez; voice: Armelle Desjardins"
SOURCES = (
    VoiceSource("asterisk-core-sounds-fr-g722", "train", asterisk_voice, "CC-BY-SA-3.0", "g722"),
    VoiceSource("asterisk-core-sounds-it-g722", "train", asterisk_voice, "CC-BY-SA-3.0", "g722"),
    VoiceSource("asterisk-core-sounds-ru-g722", "test", asterisk_voice, "CC-BY-SA-3.0", "g722"),
    VoiceSource("asterisk-prompt-it-menardi-wav", "train", asterisk_voice, _MENARDI),
    VoiceSource("fillets-ng-data-cs", "train", fillets_voice, "GPL-2"),
    VoiceSource("tuxpaint-stamps-default", "train", tuxpaint_voice, "GPL-2"),
    VoiceSource("asterisk-prompt-fr-armelle", "valid", armelle_voice, _ARMELLE, "gsm"),
    VoiceSource("kajongg", "valid", kajongg_voice, "GPL-2+"),
    VoiceSource("fillets-ng-data-nl", "test", fillets_voice, "GPL-2"),
    VoiceSource("klettres-data", "test", klettres_voice, "GPL-2+"),
)
PACKAGES = tuple(s.package for s in SOURCES)


def source(package: str) -> VoiceSource:
    """The `VoiceSource` of a package.

    Raises:
        DataError: a package with no rule.
    """
    for s in SOURCES:
        if s.package == package:
            return s
    raise DataError(f"no real-speech rule for package {package}")


@dataclass
class SpeakerBank:
    """All decoded utterances of one voice (one person)."""
    speaker: str                  # voice id, e.g. fr_CA_f_June, tuxpaint_bg
    package: str
    language: str
    rates: tuple[int, ...]        # the source files' sample rates
    utterances: list[np.ndarray]  # float32, 16 kHz, silence-trimmed
    unreadable: int = 0           # files of the voice that could not be decoded (left out)

    @property
    def seconds(self) -> float:
        """Total duration of the utterances, in seconds."""
        return sum(len(u) for u in self.utterances) / SAMPLE_RATE

    def describe(self) -> dict:
        """Voice, package, language, source rates, clips and minutes, for corpus.json."""
        return {"voice": self.speaker, "package": self.package, "language": self.language,
                "source_rates": list(self.rates), "clips": len(self.utterances),
                "unreadable_files": self.unreadable, "minutes": round(self.seconds / 60, 2)}


def load(pkg: Package, cache_dir: Path) -> list[SpeakerBank]:
    """Decode (or load from cache) every voice of a real-speech package.

    Utterances are mixed to mono, resampled to 16 kHz and silence-trimmed; exact duplicates
    within a voice (one word used for several stamps) are kept once; very short or
    near-silent ones are dropped.

    Args:
        pkg (Package): An unpacked package named in `SOURCES`.
        cache_dir (Path): Cache folder (decoded utterances go to its `decoded/`).

    Returns:
        list[SpeakerBank]: The package's voices, sorted by voice id.

    Raises:
        DataError: If the package has no rule, holds no speech by its rule, or a file
            cannot be decoded.
    """
    rule = source(pkg.name)
    cache = Path(cache_dir).expanduser() / "decoded" / f"{pkg.name}_{pkg.version}.{CACHE_TAG}.npz"
    if cache.exists():
        return _from_cache(cache, pkg.name)
    found, language = voice_files(pkg)
    if not found:
        raise DataError(f"{pkg.name}: no speech files in {pkg.root} by its rule; delete that "
                        f"folder and build again")
    banks = []
    for voice in sorted(found):
        utts, rates, seen, skipped = [], set(), set(), 0
        for f in found[voice]:
            data = f.read_bytes()
            digest = hashlib.md5(data).digest()
            if digest in seen:
                continue
            seen.add(digest)
            try:
                x, rate = _decode(f, data, rule.decode)
            except DataError:           # e.g. an empty file in the package: not speech
                skipped += 1
                continue
            rates.add(rate)
            x = trim_silence(x, SAMPLE_RATE, floor_db=-45.0)
            if len(x) >= int(0.3 * SAMPLE_RATE) and np.abs(x).max() > 1e-3:
                utts.append(_to_int16(x))
        if not utts:
            raise DataError(f"{pkg.name}: voice {voice} has no decodable speech "
                            f"({skipped} unreadable files)")
        banks.append(SpeakerBank(voice, pkg.name, language[voice], tuple(sorted(rates)),
                                 [u.astype(np.float32) / 32768.0 for u in utts], skipped))
    _to_cache(cache, banks)
    return banks


def voice_files(pkg: Package) -> tuple[dict[str, list[Path]], dict[str, str]]:
    """A real-speech package's files by voice, by its `VoiceSource` rule, in path order; and
    each voice's language."""
    rule = source(pkg.name)
    found: dict[str, list[Path]] = {}
    language: dict[str, str] = {}
    for f in sorted(p for p in pkg.root.rglob("*") if p.is_file()):
        hit = rule.voice_of(f.relative_to(pkg.root).as_posix())
        if hit:
            found.setdefault(hit[0], []).append(f)
            language[hit[0]] = hit[1]
    return found, language


def _decode(path: Path, data: bytes, how: str) -> tuple[np.ndarray, int]:
    """One file as float64 mono at 16 kHz, and its own sample rate."""
    try:
        if how == "g722":
            try:
                import G722
            except ImportError:
                raise DataError("the G722 module is missing: pip install g722") from None
            pcm = np.asarray(G722.G722(SAMPLE_RATE, 64000).decode(data), dtype=np.int16)
            return pcm.astype(np.float64) / 32768.0, SAMPLE_RATE
        if how == "gsm":
            import soundfile as sf
            import torch

            x, rate = sf.read(path, format="RAW", subtype="GSM610", samplerate=8000,
                              channels=1, dtype="float32")
            wav = audio.resample(torch.from_numpy(x)[None], rate, SAMPLE_RATE)
            return wav[0].double().numpy(), rate
        rate = audio.info(path).sample_rate
        wav, _ = audio.read(path, SAMPLE_RATE, check=False)
        return wav.mean(0).double().numpy(), rate
    except (AudioError, RuntimeError) as e:
        raise DataError(f"{path}: cannot decode ({e})") from None


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.round(x * 32768.0).clip(-32768, 32767).astype(np.int16)


def _to_cache(cache: Path, banks: list[SpeakerBank]) -> None:
    ints = [_to_int16(u) for b in banks for u in b.utterances]
    offsets = np.concatenate([[0], np.cumsum([len(u) for u in ints])]).astype(np.int64)
    counts = np.array([len(b.utterances) for b in banks], np.int64)
    with atomic_write(cache) as tmp, open(tmp, "wb") as f:
        np.savez(f, pcm=np.concatenate(ints) if ints else np.zeros(0, np.int16),
                 offsets=offsets, counts=counts,
                 voices=np.array([b.speaker for b in banks]),
                 languages=np.array([b.language for b in banks]),
                 rates=np.array([",".join(map(str, b.rates)) for b in banks]),
                 unreadable=np.array([b.unreadable for b in banks], np.int64))


def _from_cache(cache: Path, package: str) -> list[SpeakerBank]:
    with np.load(cache) as z:
        flat, offsets, counts = z["pcm"], z["offsets"], z["counts"]
        voices, languages, rates = z["voices"], z["languages"], z["rates"]
        unreadable = z["unreadable"]
    utts = [flat[a:b].astype(np.float32) / 32768.0 for a, b in zip(offsets[:-1], offsets[1:])]
    banks, start = [], 0
    for voice, lang, r, n, bad in zip(voices, languages, rates, counts, unreadable):
        banks.append(SpeakerBank(str(voice), package, str(lang),
                                 tuple(int(v) for v in str(r).split(",") if v),
                                 utts[start:start + int(n)], int(bad)))
        start += int(n)
    return banks


def clip(bank: SpeakerBank, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A clip of one voice: random utterances joined by 0.1–0.4 s pauses, or a random window
    of one long utterance.

    Args:
        bank (SpeakerBank): The voice.
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
