"""Audio files in and out: the only module that touches audio files.

soundfile does the I/O (torchaudio.load/save need torchcodec), torchaudio does resampling, with
its sinc kernel built once per (rates, dtype, device) and reused: inference resamples every chunk
and training every crop, and building the kernel costs more than applying it to a short signal.
Writes are atomic (`sepssl.files.atomic_write`), so a crash never leaves a half-written output.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import math
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf
import torch
import torchaudio.transforms as AT

from .errors import AudioError
from .files import atomic_write, first_line

#: File name extensions that `find_audio` treats as audio.
AUDIO_EXTENSIONS = {
    ".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".aifc", ".au", ".snd",
    ".caf", ".w64", ".rf64", ".opus", ".sph", ".nist", ".voc", ".wv",
}


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    sample_rate: int
    frames: int
    channels: int
    format: str
    subtype: str

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def shown(path: str | os.PathLike) -> str:
    """A file name as messages show it: as is, or quoted like `repr` when it holds characters
    that would break the one-line message (a newline, other control characters, bytes that are
    not UTF-8, line separators)."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in text):
        return repr(text)
    return text


def info(path: str | os.PathLike) -> AudioInfo:
    """Header of an audio file; raises AudioError naming the file when it is not usable."""
    path = Path(path)
    if not path.exists():
        if path.is_symlink():
            raise AudioError(f"{shown(path)}: broken symbolic link (its target "
                             f"{shown(os.readlink(path))} does not exist)")
        raise AudioError(f"{shown(path)}: no such file")
    if path.is_dir():
        raise AudioError(f"{shown(path)}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{shown(path)}: empty file (0 bytes)")
    try:
        i = sf.info(str(path))
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise AudioError(f"{shown(path)}: not a readable audio file ({_short(exc)})") from None
    if i.frames <= 0:
        raise AudioError(f"{shown(path)}: contains no samples")
    return AudioInfo(path, int(i.samplerate), int(i.frames), int(i.channels), i.format, i.subtype)


def read(path: str | os.PathLike, sample_rate: int | None = None, *, check: bool = True
         ) -> tuple[torch.Tensor, int]:
    """Read a whole file as float32 `(channels, time)`, optionally resampled to `sample_rate`.

    With `check`, NaN/Inf samples and all-zero files raise AudioError.
    """
    meta = info(path)
    try:
        data, rate = sf.read(str(meta.path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"{shown(meta.path)}: cannot decode ({_short(exc)})") from None
    if data.shape[0] == 0:
        raise AudioError(f"{shown(meta.path)}: contains no samples")
    wav = torch.from_numpy(np.ascontiguousarray(data.T))
    if check:
        validate(wav, shown(meta.path))
    if sample_rate is not None and sample_rate != rate:
        wav = resample(wav, rate, sample_rate)
        rate = sample_rate
    return wav, rate


def read_span(path: str | os.PathLike, start: int, frames: int) -> torch.Tensor:
    """`frames` samples from `start` as float32 `(channels, n)`, without checks (training reads)."""
    data, _ = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    return torch.from_numpy(np.ascontiguousarray(data.T))


def validate(wav: torch.Tensor, name: str | os.PathLike = "audio") -> None:
    """Raise AudioError when samples are NaN/Inf or the signal is digital silence."""
    if wav.numel() == 0:
        raise AudioError(f"{name}: contains no samples")
    if not torch.isfinite(wav).all():
        raise AudioError(f"{name}: contains NaN or Inf samples")
    if not wav.abs().amax() > 0:
        raise AudioError(f"{name}: is all zeros (digital silence); nothing to enhance")


#: torchaudio's defaults, which `resample` uses (and `resample_margin` assumes).
LOWPASS_FILTER_WIDTH = 6
ROLLOFF = 0.99


def resample(wav: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Band-limited resampling along the last axis (torchaudio's windowed-sinc interpolation).

    The same result as `torchaudio.functional.resample` with its defaults, but the kernel is
    cached per (rates, dtype, device) instead of rebuilt on every call.

    Args:
        wav (Tensor): floating-point audio `(..., time)`, on any device.
        orig_rate (int): the rate of `wav`.
        new_rate (int): the rate wanted.

    Returns:
        Tensor: `(..., ceil(time * new_rate / orig_rate))`, same dtype and device; `wav` itself
        when the rates are equal.
    """
    if orig_rate == new_rate:
        return wav
    if not wav.is_floating_point():
        raise TypeError(f"resample needs floating-point audio, not {wav.dtype}")
    return _resampler(int(orig_rate), int(new_rate), wav.dtype, wav.device)(wav)


def resample_margin(orig_rate: int, new_rate: int) -> int:
    """Samples at `orig_rate` that one output sample of `resample` reaches on either side.

    A span resampled with this many extra samples on both sides gives, away from those
    margins, the samples that resampling the whole signal gives there.
    """
    base = min(orig_rate, new_rate) * ROLLOFF
    return math.ceil(LOWPASS_FILTER_WIDTH * orig_rate / base) + 1


@functools.lru_cache(maxsize=32)
def _resampler(orig_rate: int, new_rate: int, dtype: torch.dtype, device: torch.device
               ) -> AT.Resample:
    # built outside inference mode, so a kernel first made under `torch.inference_mode` can
    # still be used where autograd records (training)
    with torch.inference_mode(False):
        return AT.Resample(orig_rate, new_rate, lowpass_filter_width=LOWPASS_FILTER_WIDTH,
                           rolloff=ROLLOFF, dtype=dtype).to(device)


def write(path: str | os.PathLike, wav: torch.Tensor | np.ndarray, sample_rate: int,
          subtype: str | None = None, format: str | None = None) -> Path:
    """Write `(channels, time)` or `(time,)` audio atomically; creates parent folders."""
    data = wav.detach().cpu().numpy() if isinstance(wav, torch.Tensor) else np.asarray(wav)
    data = data.astype(np.float32, copy=False)
    if data.ndim == 2:
        data = data.T
    if _is_integer(subtype or (sf.default_subtype(format or _format_for(Path(path))))):
        data = clip_for_int(data)
    with atomic_writer(path, sample_rate, channels=1 if data.ndim == 1 else data.shape[1],
                       subtype=subtype, format=format) as f:
        f.write(data)
    return Path(path)


def clip_for_int(data: np.ndarray) -> np.ndarray:
    """Clip to the range an integer file can hold (libsndfile would wrap around otherwise)."""
    return np.clip(data, -1.0, 1.0 - 2.0**-31)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, sample_rate: int, channels: int,
                  subtype: str | None = None, format: str | None = None) -> Iterator[sf.SoundFile]:
    """An open `soundfile.SoundFile` on a temporary file, renamed onto `path` on success.

    On any exception the temporary file is removed and `path` is left as it was
    (`sepssl.files.atomic_write`); the final file gets the permissions the umask gives.
    """
    path = Path(path)
    fmt = format or _format_for(path)
    with atomic_write(path, suffix=path.suffix) as tmp, _note_errno():
        with sf.SoundFile(str(tmp), "w", samplerate=int(sample_rate), channels=int(channels),
                          subtype=subtype, format=fmt) as f:
            yield f


class Reader:
    """A file opened for reading blocks `(channels, frames)` anywhere in it, without loading
    it whole; NaN/Inf blocks raise AudioError and `peak` tracks the largest sample seen."""

    def __init__(self, path: str | os.PathLike):
        self.info = info(path)
        try:
            self._file = sf.SoundFile(str(self.info.path))
        except Exception as exc:
            raise AudioError(f"{shown(self.info.path)}: not a readable audio file ({_short(exc)})") from None
        self.peak = 0.0

    def read(self, start: int, frames: int) -> torch.Tensor:
        try:
            self._file.seek(start)
            data = self._file.read(frames, dtype="float32", always_2d=True)
        except Exception as exc:
            raise AudioError(f"{shown(self.info.path)}: cannot decode at "
                             f"{start / self.info.sample_rate:.1f} s ({_short(exc)})") from None
        block = torch.from_numpy(np.ascontiguousarray(data.T))
        if not torch.isfinite(block).all():
            raise AudioError(f"{shown(self.info.path)}: contains NaN or Inf samples "
                             f"(near {start / self.info.sample_rate:.1f} s)")
        if block.numel():
            self.peak = max(self.peak, float(block.abs().amax()))
        return block

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_block(f: sf.SoundFile, block: torch.Tensor) -> None:
    """Append `(channels, frames)` to an open file, clipped when the file holds integers."""
    data = block.detach().cpu().numpy().T.astype(np.float32, copy=False)
    if _is_integer(f.subtype):
        data = clip_for_int(data)
    with _note_errno():
        f.write(data)


def _is_integer(subtype: str | None) -> bool:
    return bool(subtype) and subtype.startswith(("PCM", "ULAW", "ALAW", "DPCM", "DWVW", "G7", "IMA", "MS_"))


def find_audio(root: str | os.PathLike) -> list[Path]:
    """Audio files under a folder, recursively, sorted (hidden files and partial writes skipped)."""
    return scan_audio(root)[0]


def scan_audio(root: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """`find_audio`'s files, and the broken symbolic links it passes over (audio names whose
    target does not exist), both sorted."""
    root = Path(root)
    files, broken = [], []
    for p in root.rglob("*"):
        if (p.suffix.lower() not in AUDIO_EXTENSIONS
                or any(part.startswith(".") for part in p.relative_to(root).parts)):
            continue
        if p.is_file():
            files.append(p)
        elif p.is_symlink() and not p.exists():
            broken.append(p)
    return sorted(files), sorted(broken)


def write_failure(exc: BaseException, path: str | os.PathLike) -> AudioError:
    """The one-line AudioError for an OSError or libsndfile error while writing `path`.

    A full disk reaches soundfile as libsndfile's bare "System error." or a codec's own error
    (FLAC's), with errno ENOSPC set at the failing call (`_note_errno`), and closing the file
    then often raises another error over it; the chain of errors is searched, and a full disk
    is said as "no space left on device", naming the file.
    """
    chain, e = [], exc
    while e is not None and len(chain) < 8:
        chain.append(e)
        e = e.__context__
    codes = [e.errno if isinstance(e, OSError) else getattr(e, "c_errno", 0) for e in chain]
    edquot = getattr(errno, "EDQUOT", None)
    if errno.ENOSPC in codes:
        reason = "no space left on device"
    elif edquot is not None and edquot in codes:
        reason = "disk quota exceeded"
    elif any(isinstance(e, sf.LibsndfileError) and e.code == 2 for e in chain):
        reason = "no space left on device"  # libsndfile's "System error." on a write
    elif isinstance(exc, OSError):
        reason = exc.strerror or _short(exc)
    else:
        reason = _short(exc)
    return AudioError(f"{shown(path)}: cannot write: {reason}")


@contextlib.contextmanager
def _note_errno() -> Iterator[None]:
    """A libsndfile error raised inside gets `c_errno`: errno as the failing C call left it
    (soundfile's cffi keeps it per thread; the next C call, such as closing, overwrites it)."""
    try:
        yield
    except sf.LibsndfileError as exc:
        if not hasattr(exc, "c_errno"):
            try:
                exc.c_errno = int(sf._ffi.errno)
            except Exception:
                exc.c_errno = 0
        raise


def _format_for(path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    aliases = {"aif": "AIFF", "aiff": "AIFF", "aifc": "AIFF", "oga": "OGG", "opus": "OGG",
               "snd": "AU", "sph": "NIST"}
    fmt = aliases.get(ext, ext.upper())
    if fmt not in sf.available_formats():
        raise AudioError(f"{shown(path)}: unknown output format {ext!r}; use .wav or .flac")
    return fmt


def _short(exc: Exception) -> str:
    """The first line of an exception's message (or its type), at most 200 characters."""
    return first_line(exc, 200)
