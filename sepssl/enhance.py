"""Inference on signals, files and folders.

One streaming core serves the CLI, the Python API and the tests: the input is read in
overlapping chunks, each chunk is resampled to the model's rate, enhanced, resampled back and
cross-faded into the output (`dsp.overlap_add`), which is written as it is produced. Above the
model's band (a 44.1 / 48 kHz input), the input is kept, gained frame by frame like the top of
the model's band (`dsp.band_extension`). Memory does
not grow with the file's length; the output has the input's rate, length, channels and subtype.

A batch (`enhance_paths`) plans before it writes: inputs are collected once each (never from
inside the output folder), arguments are checked against every output format, outputs that
exist are skipped unless `overwrite`, and stale temporary files of an earlier killed run next to
this run's outputs are removed. SIGTERM stops a run like Ctrl-C does (`Terminated`), so no
temporary file is left behind.
"""
from __future__ import annotations

import contextlib
import glob
import itertools
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import soundfile as sf
import torch

from . import audio
from .audio import shown
from .dsp import mixing
from .dsp.band_extension import extend_upper_band
from .dsp.overlap_add import chunk_starts, overlap_add
from .errors import AudioError, ConfigError, SepsslError
from .files import PART_SUFFIX

DEFAULT_CHUNK_SECONDS = 10.0
#: `atten_lim_db` value meaning "the model file's own setting" (None for models it does not set).
MODEL_SETTING = "model"
MAX_OVERLAP_SECONDS = 1.0
#: The name `-` stands for stdin (as an input) and stdout (as the output), as in Unix tools.
STDIO = "-"
STDIN_NAME = "<stdin>"


def _overlap(chunk: int, rate: int) -> int:
    return min(int(MAX_OVERLAP_SECONDS * rate), chunk // 4)


@torch.no_grad()
def enhance_stream(model: torch.nn.Module, read: Callable[[int, int], torch.Tensor], length: int,
                   sample_rate: int, chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                   batch_chunks: int = 8, atten_lim_db: float | str | None = MODEL_SETTING
                   ) -> Iterator[torch.Tensor]:
    """Enhanced pieces of a signal of `length` frames given by `read(start, n)`.

    Up to `batch_chunks` chunks go through the model as one batch: a recurrent model at batch 1
    is step-overhead bound, so batching chunks is several times faster at the same memory bound.

    Args:
        model (torch.nn.Module): an enhancer (`sample_rate` attribute; `(batch, time)` in and out).
        read (Callable[[int, int], Tensor]): `read(start, n)` gives up to `n` frames from `start`
            as `(channels, frames)`; fewer is a short read and is read on from where it stopped.
        length (int): frames in the signal.
        sample_rate (int): the signal's rate (the model's input is resampled to its own).
        chunk_seconds (float, optional): the length of a chunk. (Default: ``10.0``)
        batch_chunks (int, optional): chunks per model call. (Default: ``8``)
        atten_lim_db (float, str or None, optional): mix the input back so nothing is
            attenuated by more than that many dB (`dsp.mixing.limit_attenuation`, at the
            input's own rate); None: the model's output as is; "model": the model's own
            `atten_lim_db` (the shipped default model sets one). (Default: ``"model"``)

    Returns:
        Iterator[Tensor]: float32 `(channels, n)` pieces on the CPU; concatenated along time
        they are `(channels, length)`, aligned with the input.

    Raises:
        AudioError: `read` returns no frames before `length` frames were read.
    """
    if atten_lim_db == MODEL_SETTING:
        atten_lim_db = getattr(model, "atten_lim_db", None)
    chunk = max(int(chunk_seconds * sample_rate), 1)
    overlap = _overlap(chunk, sample_rate)
    device = next(model.parameters()).device
    starts = chunk_starts(length, chunk, overlap)

    def processed() -> Iterator[torch.Tensor]:
        for i in range(0, len(starts), batch_chunks):
            group = [_read_exactly(read, s, min(chunk, length - s), length)
                     for s in starts[i:i + batch_chunks]]
            # runs of equal length go through the model together: all full chunks, then the
            # shorter last one alone (no padding)
            for _, run in itertools.groupby(group, key=lambda b: b.shape[-1]):
                yield from _enhance_blocks(model, list(run), sample_rate, device, atten_lim_db)

    yield from overlap_add(processed(), overlap)


def _read_exactly(read: Callable[[int, int], torch.Tensor], start: int, n: int,
                  length: int) -> torch.Tensor:
    """`n` frames from `start`, however few frames each `read` call returns (a short read is not
    the end); AudioError if the input ends before the `length` frames it was said to have."""
    blocks, got = [], 0
    while got < n:
        block = read(start + got, n - got)[..., : n - got]
        if block.shape[-1] == 0:
            raise AudioError(f"the audio ends after {start + got} of the {length} frames its "
                             "header gives (a truncated file?)")
        blocks.append(block)
        got += block.shape[-1]
    return blocks[0] if len(blocks) == 1 else torch.cat(blocks, dim=-1)


def _enhance_blocks(model, blocks: list[torch.Tensor], rate: int, device,
                    atten_lim_db: float | None = None) -> list[torch.Tensor]:
    """Equal-length `(channels, n)` blocks through the model at once (chunks × channels = batch)."""
    channels, n = blocks[0].shape
    x = torch.cat(blocks).to(device)
    x_low = audio.resample(x, rate, model.sample_rate)
    y_low = model(x_low)
    y = audio.resample(y_low, model.sample_rate, rate)
    y = torch.nn.functional.pad(y, (0, max(0, n - y.shape[-1])))[..., :n]
    if rate > model.sample_rate:  # full band: the part above the model's band, gained like its top
        y = y + extend_upper_band(x, x_low, y_low.to(x_low.dtype), rate, model.sample_rate,
                                  audio.resample).to(y.dtype)
    y = mixing.limit_attenuation(y, x.to(y.dtype), atten_lim_db).float().cpu()
    return list(y.split(channels))


def enhance_signal(model, wav: torch.Tensor, sample_rate: int,
                   chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                   atten_lim_db: float | str | None = MODEL_SETTING) -> torch.Tensor:
    """Enhance an in-memory `(channels, time)` tensor; returns the same shape and rate."""
    audio.validate(wav)
    pieces = enhance_stream(model, lambda s, n: wav[:, s:s + n], wav.shape[-1], sample_rate,
                            chunk_seconds, atten_lim_db=atten_lim_db)
    return torch.cat(list(pieces), dim=-1)


def enhance_file(model, src: str | os.PathLike, dst: str | os.PathLike,
                 chunk_seconds: float = DEFAULT_CHUNK_SECONDS, subtype: str | None = None,
                 on_progress: Callable[[float], None] | None = None,
                 atten_lim_db: float | str | None = MODEL_SETTING, format: str | None = None) -> Path:
    """Enhance one file into `dst` (atomic; nothing is left at `dst` if it fails).

    The output has the input's format and subtype unless `format` / `subtype` are given. A
    failed write (a full disk, a read-only folder) is an AudioError naming `dst`.
    """
    with audio.Reader(src) as reader:
        meta = reader.info
        try:
            with audio.atomic_writer(dst, meta.sample_rate, meta.channels,
                                     subtype=subtype or meta.subtype,
                                     format=format or meta.format) as out:
                try:
                    for piece in enhance_stream(model, reader.read, meta.frames, meta.sample_rate,
                                                chunk_seconds, atten_lim_db=atten_lim_db):
                        audio.write_block(out, piece)
                        if on_progress:
                            on_progress(piece.shape[-1] / meta.sample_rate)
                except AudioError as exc:
                    if shown(meta.path) in str(exc):
                        raise
                    raise AudioError(f"{shown(meta.path)}: {exc}") from None
                if reader.peak == 0.0:
                    raise AudioError(f"{shown(meta.path)}: is all zeros (digital silence); "
                                     "nothing to enhance")
        except (OSError, sf.LibsndfileError) as exc:  # reads raise AudioError: these are writes
            raise audio.write_failure(exc, dst) from None
    return Path(dst)


@dataclass
class EnhanceReport:
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (input, one-line reason)
    skipped: list[Path] = field(default_factory=list)  # outputs that existed (no `overwrite`)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self, out_dir: Path) -> str:
        total = len(self.written) + len(self.failed) + len(self.skipped)
        return (f"enhanced {len(self.written)} of {total} file(s) into {shown(out_dir)}"
                + (f"; {len(self.skipped)} skipped (output exists)" if self.skipped else "")
                + (f"; {len(self.failed)} failed" if self.failed else ""))


def resolve_device(device: str) -> str:
    """"auto" → "cuda" when a GPU is there, else "cpu"; anything else as given."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def check_subtype(subtype: str | None, formats: set[str] | frozenset[str] = frozenset()) -> str | None:
    """`subtype` upper-cased, checked once for a whole run: a subtype soundfile knows, and one
    that every output format in `formats` can hold; None stays None (each input's own).

    Raises:
        ConfigError: an unknown subtype, or one an output format cannot take.
    """
    if subtype is None:
        return None
    name = subtype.upper()
    known = sf.available_subtypes()
    if name not in known:
        raise ConfigError(f"--subtype {subtype}: unknown subtype; choose one of "
                          f"{', '.join(sorted(known))}")
    bad = sorted(f for f in formats if not sf.check_format(f, name))
    if bad:
        fit = sorted(sf.available_subtypes(bad[0]))
        raise ConfigError(f"--subtype {name}: {' and '.join(bad)} output cannot hold it "
                          f"({bad[0]} takes {', '.join(fit)})")
    return name


def _below(path: Path, folder: Path) -> bool:
    """`path` lies strictly inside `folder` (both resolved)."""
    return folder in path.parents


def _entry(path: Path) -> Path:
    """The directory entry a path names: its folder resolved, its own name kept, so that
    `d/a.wav`, `./d/a.wav` and `d2/a.wav` (d2 a link to d) are one file, and a link `b.wav` to
    `a.wav` stays a file of its own."""
    return Path(os.path.realpath(path.parent)) / path.name


def _glob_root(pattern: str) -> Path:
    """The fixed (non-magic) leading folders of a glob: matches keep their path below it."""
    fixed = list(itertools.takewhile(lambda part: not glob.has_magic(part), Path(pattern).parts))
    return Path(*fixed) if fixed else Path(".")


def collect_inputs(inputs: list[str], out_dir: str | os.PathLike | None = None
                   ) -> tuple[list[tuple[Path, Path]], list[tuple[str, str]]]:
    """Expand files, folders (recursively) and globs into (source, output path relative to OUTDIR)
    pairs, plus (input, reason) for inputs that name nothing usable.

    A folder's files keep their path below it, a glob's their path below its fixed prefix
    (`d/*/a.wav` gives `x/a.wav`, `y/a.wav`), a file named on its own its name. A file given
    twice (again, or also through its folder or a glob) is collected once, where first named.
    Files that a folder or glob finds inside `out_dir`, when `out_dir` lies below that folder,
    are left out silently: they are this command's earlier outputs. Broken symbolic links a
    folder or glob finds are reasons.
    """
    jobs: list[tuple[Path, Path]] = []
    errors: list[tuple[str, str]] = []
    seen: set[Path] = set()
    out = Path(out_dir).resolve() if out_dir is not None else None

    def own_outputs(root: Path) -> Callable[[Path], bool]:
        root = root.resolve()
        if out is None or not _below(out, root):
            return lambda _: False
        return lambda f: _below(_entry(f), out)

    def add(src: Path, rel: Path) -> None:
        key = _entry(src)
        if key not in seen:
            seen.add(key)
            jobs.append((src, rel))

    def broken(links: list[Path]) -> None:
        for link in links:
            if _entry(link) not in seen:
                seen.add(_entry(link))
                errors.append((str(link), f"{shown(link)}: broken symbolic link (its target "
                                          f"{shown(os.readlink(link))} does not exist)"))

    for item in inputs:
        path = Path(item)
        if path.is_dir():
            skip = own_outputs(path)
            found, links = audio.scan_audio(path)
            found = [f for f in found if not skip(f)]
            links = [f for f in links if not skip(f)]
            if not found and not links:
                errors.append((item, f"{shown(item)}: folder contains no audio files"))
            for f in found:
                add(f, f.relative_to(path))
            broken(links)
        elif path.exists():
            add(path, Path(path.name))
        elif path.is_symlink():
            broken([path])
        elif glob.has_magic(item):
            root = _glob_root(item)
            skip = own_outputs(root)
            matches = [m for m in sorted(Path(m) for m in glob.glob(item, recursive=True))
                       if not skip(m)]
            files = [m for m in matches if m.is_file()]
            links = [m for m in matches if m.is_symlink() and not m.exists()]
            if not files and not links:
                errors.append((item, f"{shown(item)}: no files match this pattern"))
            for m in files:
                try:
                    rel = m.relative_to(root)
                except ValueError:
                    rel = Path(m.name)
                add(m, rel)
            broken(links)
        else:
            errors.append((item, f"{shown(item)}: no such file or directory"))
    return jobs, errors


class Terminated(KeyboardInterrupt):
    """SIGTERM during a run, raised where the run is, like Ctrl-C's KeyboardInterrupt: the
    temporary file being written is removed and nothing else is written. `signum` is the
    signal (the command exits with 128 + signum, 143 for SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


#: mkstemp's random part of `sepssl.files.atomic_write`'s `.NAME.<random><suffix>.part` names.
_RANDOM = re.compile(r"(?s)(.+)\.[a-z0-9_]{8}")


def _part_owner(name: str) -> str | None:
    """The output name whose temporary file `name` is (`.a.wav.k3j_x9q2.wav.part` → `a.wav`,
    as audio writes name them: suffix = the output's own), or None for any other name."""
    if not (name.startswith(".") and name.endswith(PART_SUFFIX)):
        return None
    core = name[1:-len(PART_SUFFIX)]
    for ext in {Path(core).suffix, ""}:
        if ext and not core.endswith(ext):
            continue
        m = _RANDOM.fullmatch(core[:len(core) - len(ext)])
        if m and Path(m.group(1)).suffix == ext:
            return m.group(1)
    return None


def remove_stale_parts(outputs: list[Path], before: float) -> list[Path]:
    """Remove temporary files that a killed run left next to `outputs` (sepssl's own
    `.NAME.<random>.EXT.part` names for those outputs only), modified before `before`
    (a time.time()); returns what was removed."""
    by_folder: dict[Path, set[str]] = {}
    for dst in outputs:
        by_folder.setdefault(dst.parent, set()).add(dst.name)
    removed = []
    for folder, names in by_folder.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if _part_owner(entry.name) not in names:
                continue
            with contextlib.suppress(OSError):
                if (entry.is_file(follow_symlinks=False)
                        and entry.stat(follow_symlinks=False).st_mtime < before):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def enhance_paths(model, inputs: list[str], out_dir: str | os.PathLike,
                  chunk_seconds: float = DEFAULT_CHUNK_SECONDS, subtype: str | None = None,
                  progress: bool = True, log: Callable[[str], None] | None = None,
                  atten_lim_db: float | str | None = MODEL_SETTING,
                  overwrite: bool = False) -> EnhanceReport:
    """Enhance files, folders and globs into `out_dir`; a bad file is reported and skipped.

    Inputs are collected by `collect_inputs` (each once; none from inside `out_dir`). An output
    that exists is skipped (listed in `report.skipped`, with one line through `log`) unless
    `overwrite`, so a rerun after a crash finishes the rest. Messages go through `log` (or,
    with the progress bar, to stderr above it); SIGTERM raises `Terminated`.

    Raises:
        ConfigError: `subtype` is unknown or an input's output format cannot hold it
            (checked before anything is written).
    """
    from tqdm import tqdm

    started = time.time()
    log = log or logging.getLogger("sepssl").warning
    out_dir = Path(out_dir)
    subtype = check_subtype(subtype)
    jobs, errors = collect_inputs(inputs, out_dir)
    infos: dict[Path, audio.AudioInfo | None] = {}
    for src, _ in jobs:
        try:
            infos[src] = audio.info(src)
        except SepsslError:
            infos[src] = None
    check_subtype(subtype, {i.format for i in infos.values() if i is not None})
    report = EnhanceReport(failed=list(errors))
    for _, reason in errors:
        log(f"error: {reason}")

    # the plan: each job's output, or why it cannot be written; no file is touched yet
    sources = {src.resolve() for src, _ in jobs}
    planned: dict[Path, Path] = {}
    plan: list[tuple[Path, Path, str | None, bool]] = []   # (src, dst, problem, exists)
    for src, rel in jobs:
        dst = out_dir / rel
        problem, exists = None, False
        try:
            target = dst.resolve()
            if target in sources:
                problem = (f"{shown(src)}: refusing to write over an input file ({shown(dst)}); "
                           "choose another output folder")
            elif target in planned:
                problem = (f"{shown(src)}: output {shown(dst)} would also be written from "
                           f"{shown(planned[target])}; enhance them into separate folders")
            else:
                planned[target] = src
                exists = not overwrite and dst.is_file()
        except (OSError, RuntimeError) as exc:
            problem = f"{shown(src)}: cannot use output {shown(dst)} ({audio._short(exc)})"
        plan.append((src, dst, problem, exists))
    stale = remove_stale_parts([dst for _, dst, problem, _ in plan if problem is None], started)
    if stale:
        log(f"removed {len(stale)} stale partial file(s) of an earlier, interrupted run")

    seconds = {src: (infos[src].seconds if infos[src] else 0.0) for src, _ in jobs}
    todo = [src for src, _, problem, exists in plan if problem is None and not exists]
    bar = tqdm(total=sum(seconds[src] for src in todo), unit="s", desc="enhancing",
               disable=not progress, dynamic_ncols=True, file=sys.stderr,
               bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}{postfix}]")

    def say(msg: str) -> None:
        bar.write(msg, file=sys.stderr) if progress else log(msg)

    try:
        with terminate_as_interrupt():
            for i, (src, dst, problem, exists) in enumerate(plan):
                if exists:
                    report.skipped.append(dst)
                    continue
                bar.set_postfix_str(f"file {i + 1}/{len(plan)}")
                done = 0.0
                try:
                    if problem:
                        raise AudioError(problem)

                    def step(s: float) -> None:
                        nonlocal done
                        done += s
                        bar.update(s)

                    enhance_file(model, src, dst, chunk_seconds, subtype, on_progress=step,
                                 atten_lim_db=atten_lim_db)
                    report.written.append(dst)
                except SepsslError as exc:
                    report.failed.append((str(src), str(exc)))
                    say(f"error: {exc}")
                except Exception as exc:  # a library error on one file must not stop the batch
                    msg = f"{shown(src)}: failed ({type(exc).__name__}: {audio._short(exc)[:160]})"
                    report.failed.append((str(src), msg))
                    say(f"error: {msg}")
                if problem is None:
                    bar.update(max(0.0, seconds[src] - done))
    finally:
        bar.close()
    if report.skipped:
        log(f"skipped {len(report.skipped)} existing output(s); --overwrite to redo them")
    return report


def enhance_stdio(model, stdin: BinaryIO, stdout: BinaryIO,
                  chunk_seconds: float = DEFAULT_CHUNK_SECONDS, subtype: str | None = None,
                  progress: bool = True, atten_lim_db: float | str | None = MODEL_SETTING) -> None:
    """Enhance the audio read from `stdin` and write it to `stdout` as WAV (`sepssl enhance - -o -`).

    `stdin` may be a pipe: it is read to its end into a temporary file first (any format
    soundfile reads from its content: WAV, FLAC, OGG, ...). The output is WAV with the input's
    rate, channels and subtype (`subtype` if given; PCM_16 for a subtype WAV cannot hold, such
    as Vorbis), staged in a temporary file and written to `stdout` only once complete, so a
    failure writes nothing there. SIGTERM raises `Terminated`.

    Raises:
        AudioError: the input is not usable audio (named `<stdin>`).
        ConfigError: `subtype` is unknown or not a WAV subtype.
    """
    subtype = check_subtype(subtype, {"WAV"})
    with tempfile.TemporaryDirectory(prefix="sepssl-") as tmp, terminate_as_interrupt():
        src, dst = Path(tmp) / "stdin", Path(tmp) / "stdout.wav"
        with open(src, "wb") as f:
            shutil.copyfileobj(stdin, f)
        try:
            meta = audio.info(src)
            if subtype is None:
                subtype = (meta.subtype if sf.check_format("WAV", meta.subtype)
                           else sf.default_subtype("WAV"))
            with _bar(meta.seconds, progress) as step:
                enhance_file(model, src, dst, chunk_seconds, subtype, on_progress=step,
                             atten_lim_db=atten_lim_db, format="WAV")
        except AudioError as exc:
            raise AudioError(str(exc).replace(shown(src), STDIN_NAME)
                             .replace(shown(dst), "<stdout>")) from None
        with open(dst, "rb") as f:
            shutil.copyfileobj(f, stdout)
        stdout.flush()


@contextlib.contextmanager
def _bar(total: float, progress: bool) -> Iterator[Callable[[float], None]]:
    from tqdm import tqdm

    with tqdm(total=total, unit="s", desc="enhancing", disable=not progress, file=sys.stderr,
              dynamic_ncols=True, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio "
                                             "[{elapsed}<{remaining}]") as bar:
        yield bar.update
