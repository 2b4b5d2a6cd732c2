"""Speech synthesis with the Debian TTS engines: espeak-ng, flite and festival.

Why: under the project's data rules (DATA.md) the only English speech allowed is synthetic.
Many *virtual speakers* (engine + voice + variant + prosody settings) give speaker variety;
their prosody is widened because TTS pitch contours are flat: espeak gets an SSML pitch range,
flite a larger F0 deviation, and every engine a post-hoc warp (a global resampling factor,
which moves pitch, formants and tempo together like a different vocal tract, plus a slow
sinusoidal rate modulation that bends the pitch contour by a few percent).

Speaker disjointness between splits is by *base voice*: espeak accents and variants are
partitioned between splits, and flite/festival voices that come from the same recorded person
(slt, kal) always go to the same split.

Hand-written because the prosody controls used here (espeak SSML, flite and festival
parameters) are reached through the engines' command lines, which no Python wrapper exposes
for all three; each engine runs as a subprocess.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .. import audio
from ..errors import DataError

SAMPLE_RATE = 16000

#: The 8 English accents of espeak-ng. `en-gb+variant` silently drops the variant, `en+variant`
#: keeps it (same British voice), hence the mapping in `_espeak_voice`.
ESPEAK_ACCENTS = ("en-gb", "en-us", "en-029", "en-gb-scotland", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd", "en-gb-x-rp", "en-us-nyc")
_ESPEAK_SKIP = re.compile(r"robo|robot|whisper|demonic|announcer|tweaky|storm|ricishay",
                          re.IGNORECASE)

#: flite voices and festival voices, grouped by the recorded person behind them.
FLITE_VOICES = ("awb", "kal16", "rms", "slt")
FESTIVAL_VOICES = {"slt_hts": "voice_cmu_us_slt_arctic_hts", "kal": "voice_kal_diphone"}
PERSON = {("flite", "awb"): "awb", ("flite", "kal16"): "kal", ("flite", "rms"): "rms",
          ("flite", "slt"): "slt", ("festival", "slt_hts"): "slt", ("festival", "kal"): "kal"}
_FESTIVAL_DIRS = {"slt_hts": "us/cmu_us_slt_arctic_hts", "kal": "english/kal_diphone"}
_INSTALL = ("install the engines: apt-get install espeak-ng flite festival festvox-us-slt-hts "
            "festvox-kallpc16k (a checkout has scripts/install_system_deps.sh)")


@dataclass(frozen=True)
class Speaker:
    """A virtual speaker: everything that fixes how its speech sounds."""
    id: str
    engine: str        # espeak-ng | flite | festival
    voice: str         # espeak accent, flite voice or festival voice key
    variant: str       # espeak variant ("" elsewhere)
    pitch: float       # espeak -p (0..99); flite/festival F0 mean in Hz (0 = voice default)
    pitch_dev: float   # flite/festival F0 standard deviation in Hz (0 = default)
    rate: float        # speaking rate factor (1 = engine default)
    range: str         # espeak SSML prosody range
    shift: float       # post-hoc resampling factor (>1: higher and faster)
    wobble: float      # depth of the slow pitch-contour modulation (fraction)
    wobble_hz: float   # its rate

    def describe(self) -> dict:
        """All settings as a plain dict (for the corpus's records)."""
        return asdict(self)


def check_engines(engines: tuple[str, ...]) -> None:
    """Check that TTS engines and their voices are installed.

    Args:
        engines (tuple[str, ...]): Engine names: ``"espeak-ng"``, ``"flite"``, ``"festival"``.

    Raises:
        DataError: Naming the first missing engine or voice and how to install it.
    """
    for e in engines:
        if e == "espeak-ng" and shutil.which("espeak-ng") is None:
            raise DataError(f"espeak-ng not found: {_INSTALL}")
        if e == "flite" and shutil.which("flite") is None:
            raise DataError(f"flite not found: {_INSTALL}")
        if e == "festival":
            if shutil.which("text2wave") is None:
                raise DataError(f"festival (text2wave) not found: {_INSTALL}")
            for key, sub in _FESTIVAL_DIRS.items():
                if not (Path("/usr/share/festival/voices") / sub).is_dir():
                    raise DataError(f"festival voice {key} not found: {_INSTALL}")


def available_engines() -> tuple[str, ...]:
    """The installed engines (with their voices), in the order espeak-ng, flite, festival.

    Returns:
        tuple[str, ...]: Engine names that pass `check_engines`.
    """
    out = []
    for e in ("espeak-ng", "flite", "festival"):
        try:
            check_engines((e,))
            out.append(e)
        except DataError:
            pass
    return tuple(out)


@functools.lru_cache(maxsize=1)
def espeak_variants() -> tuple[str, ...]:
    """Installed espeak-ng voice variants, without robot/whisper-like ones (cached).

    Returns:
        tuple[str, ...]: Variant names, sorted.

    Raises:
        DataError: If espeak-ng is missing or lists no variants.
    """
    check_engines(("espeak-ng",))
    proc = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True)
    names = []
    for line in proc.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 5 and parts[4].startswith("!v/"):
            name = parts[4][3:]
            if not _ESPEAK_SKIP.search(name):
                names.append(name)
    if not names:
        raise DataError(f"espeak-ng lists no voice variants: reinstall espeak-ng-data; {_INSTALL}")
    return tuple(sorted(set(names)))


def engine_versions(engines: tuple[str, ...]) -> dict[str, str]:
    """Debian package versions of the engines and their voice packages (for corpus.json).

    Args:
        engines (tuple[str, ...]): Engine names.

    Returns:
        dict[str, str]: Package name → version (``"unknown"`` if dpkg does not know it).
    """
    pkgs = {"espeak-ng": ["espeak-ng", "espeak-ng-data"], "flite": ["flite"],
            "festival": ["festival", "festvox-us-slt-hts", "festvox-kallpc16k"]}
    out = {}
    for e in engines:
        for p in pkgs[e]:
            proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", p],
                                  capture_output=True, text=True)
            out[p] = proc.stdout.strip() if proc.returncode == 0 else "unknown"
    return out


def random_speaker(rng: np.random.Generator, sid: str, engine: str, voice: str,
                   variant: str = "") -> Speaker:
    """Draw a virtual speaker: random prosody and warp settings for a base voice.

    Args:
        rng (numpy.random.Generator): Random generator.
        sid (str): Speaker id.
        engine (str): ``"espeak-ng"``, ``"flite"`` or ``"festival"``.
        voice (str): espeak accent, flite voice or festival voice key.
        variant (str, optional): espeak variant (``""`` elsewhere). (Default: ``""``)

    Returns:
        Speaker: The virtual speaker.
    """
    if engine == "espeak-ng":
        pitch = float(rng.integers(20, 80))
        pitch_dev = 0.0
        rng_ = ("high", "x-high")[int(rng.integers(2))]
    elif engine == "flite":
        base = {"awb": 125.0, "kal16": 100.0, "rms": 100.0, "slt": 170.0}[voice]
        pitch = base * float(rng.uniform(0.85, 1.2))
        pitch_dev = pitch * float(rng.uniform(0.15, 0.3))
        rng_ = ""
    else:
        base = {"kal": 105.0, "slt_hts": 0.0}[voice]
        pitch = base * float(rng.uniform(0.85, 1.25))
        pitch_dev = pitch * float(rng.uniform(0.15, 0.3))
        rng_ = ""
    return Speaker(
        id=sid, engine=engine, voice=voice, variant=variant, pitch=round(pitch, 1),
        pitch_dev=round(pitch_dev, 1), rate=round(float(rng.uniform(0.8, 1.2)), 3), range=rng_,
        shift=round(float(rng.uniform(0.9, 1.1)), 4),
        wobble=round(float(rng.uniform(0.03, 0.08)), 4),
        wobble_hz=round(float(rng.uniform(0.4, 1.5)), 3))


def synthesize(spk: Speaker, text: str, rng: np.random.Generator) -> np.ndarray:
    """Synthesise `text` with a virtual speaker, trim silence, warp and resample.

    Args:
        spk (Speaker): The virtual speaker.
        text (str): What to say.
        rng (numpy.random.Generator): Random generator (for the warp's phase).

    Returns:
        numpy.ndarray: Float32 mono waveform at 16 kHz, shape `(time,)`.

    Raises:
        DataError: If the engine is unknown, missing or fails.
    """
    with tempfile.TemporaryDirectory(prefix="sepssl-tts-") as tmp:
        out = Path(tmp) / "out.wav"
        if spk.engine == "espeak-ng":
            _espeak(spk, text, out)
        elif spk.engine == "flite":
            _flite(spk, text, out)
        elif spk.engine == "festival":
            _festival(spk, text, out, Path(tmp))
        else:
            raise DataError(f"unknown TTS engine {spk.engine!r}")
        wav, rate = audio.read(out)
    x = wav.mean(0).numpy().astype(np.float64)
    x = trim_silence(x, rate)
    x = warp(x, rate, spk.shift, spk.wobble, spk.wobble_hz, float(rng.uniform(0, 2 * np.pi)))
    y = audio.resample(torch.from_numpy(x.astype(np.float32)), rate, SAMPLE_RATE).numpy()
    return y.astype(np.float32)


def _espeak_voice(accent: str, variant: str) -> str:
    voice = "en" if accent == "en-gb" else accent
    return f"{voice}+{variant}" if variant else voice


def _espeak(spk: Speaker, text: str, out: Path) -> None:
    ssml = f'<speak><prosody range="{spk.range}">{_xml(text)}</prosody></speak>'
    cmd = ["espeak-ng", "-m", "-v", _espeak_voice(spk.voice, spk.variant),
           "-s", str(int(round(175 * spk.rate))), "-p", str(int(spk.pitch)), "-w", str(out), ssml]
    _call(cmd, "espeak-ng")


def _flite(spk: Speaker, text: str, out: Path) -> None:
    cmd = ["flite", "-voice", spk.voice, "--setf", f"duration_stretch={1 / spk.rate:.3f}",
           "--setf", f"int_f0_target_mean={spk.pitch}",
           "--setf", f"int_f0_target_stddev={spk.pitch_dev}", "-t", text, "-o", str(out)]
    _call(cmd, "flite")


def _festival(spk: Speaker, text: str, out: Path, tmp: Path) -> None:
    txt = tmp / "in.txt"
    txt.write_text(text + "\n")
    cmd = ["text2wave", "-eval", f"({FESTIVAL_VOICES[spk.voice]})",
           "-eval", f"(Parameter.set 'Duration_Stretch {1 / spk.rate:.3f})"]
    if spk.pitch > 0:
        cmd += ["-eval", f"(set! int_lr_params '((target_f0_mean {spk.pitch}) "
                         f"(target_f0_std {spk.pitch_dev}) (model_f0_mean 170) (model_f0_std 34)))"]
    cmd += [str(txt), "-o", str(out)]
    _call(cmd, "festival")


def _call(cmd: list[str], name: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "LC_ALL": "C"})
    except FileNotFoundError:
        raise DataError(f"{name} not found: {_INSTALL}") from None
    if proc.returncode != 0:
        raise DataError(f"{name} failed ({proc.stderr.strip()[:200]}); {_INSTALL}")


def _xml(text: str) -> str:
    return text.replace("&", "and").replace("<", " ").replace(">", " ")


def trim_silence(x: np.ndarray, rate: int, floor_db: float = -40.0,
                 margin_s: float = 0.05) -> np.ndarray:
    """Cut leading and trailing 20 ms frames quieter than `floor_db` below the loudest frame.

    Args:
        x (numpy.ndarray): Waveform, shape `(time,)`.
        rate (int): Sample rate, in Hz.
        floor_db (float, optional): Threshold relative to the loudest frame, in dB.
            (Default: ``-40.0``)
        margin_s (float, optional): Signal kept on each side of the active part, in seconds.
            (Default: ``0.05``)

    Returns:
        numpy.ndarray: The trimmed waveform (`x` itself if nothing is active or it is too
        short).
    """
    hop = max(1, int(0.02 * rate))
    n = len(x) // hop
    if n < 2:
        return x
    e = (x[: n * hop].reshape(n, hop) ** 2).mean(1)
    active = np.nonzero(e > e.max() * 10 ** (floor_db / 10))[0]
    if active.size == 0:
        return x
    m = int(margin_s * rate)
    return x[max(0, active[0] * hop - m): min(len(x), (active[-1] + 1) * hop + m)]


def warp(x: np.ndarray, rate: int, shift: float, wobble: float, wobble_hz: float,
         phase: float) -> np.ndarray:
    """Read `x` at a time-varying speed shift*(1 + wobble*sin(2*pi*f*t)).

    Reading faster raises pitch and formants and shortens the sound; the slow sinusoid bends the
    flat TTS pitch contour. Linear interpolation: the later band-limited resampling to 16 kHz
    (or the low level of images at these small factors) keeps it clean enough.

    Args:
        x (numpy.ndarray): Waveform, shape `(time,)`.
        rate (int): Sample rate, in Hz.
        shift (float): Mean speed factor (>1: higher and shorter).
        wobble (float): Depth of the speed modulation, as a fraction.
        wobble_hz (float): Rate of the speed modulation, in Hz.
        phase (float): Start phase of the modulation, in radians.

    Returns:
        numpy.ndarray: Warped waveform, about `len(x) / shift` samples, same rate.
    """
    n_out = int(len(x) / shift)
    t = np.arange(n_out) / rate
    speed = shift * (1 + wobble * np.sin(2 * np.pi * wobble_hz * t + phase))
    pos = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    pos = pos[pos <= len(x) - 1]
    return np.interp(pos, np.arange(len(x)), x)
