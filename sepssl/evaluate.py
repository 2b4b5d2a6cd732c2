"""Score enhanced speech against references: PESQ, STOI / ESTOI, SI-SDR (optional DNSMOS).

The metrics themselves come from their libraries: `pesq` (ITU-T P.862.2 wide-band at 16 kHz,
P.862 narrow-band at 8 kHz), `pystoi` (STOI and extended STOI) and `sepssl.losses.si_sdr`.
What is written by hand here, and why:

* **Parallel scoring over files.** asteroid's `get_metrics` (and ESPnet's scoring stage) score
  one file after another; PESQ and STOI are pure-CPU C/NumPy code, so a process pool with one
  BLAS/torch thread per worker scales with cores. `pesq.pesq_batch` is not used: it starts its
  own pool per call (which would nest inside ours) and returns exception objects inside its
  result list instead of raising.
* **Failures become data, not crashes.** pesq 0.0.4 raises `PesqError` subclasses with *bytes*
  messages for a silent reference or a buffer under 0.25 s, but a plain `ValueError` for a silent
  estimate or an unsupported rate. Every such case becomes NaN for that metric and file with a
  short human reason, and the summary counts the reasons ("pesq failed on 2 files: 1 silent
  reference, 1 too short"). An unreadable file becomes a failed row.
* **Pairing by relative path** with unpaired files reported, and scoring of the unprocessed input
  as well as the output (the improvement is what a reader wants; ESPnet-SE's enh.sh does the same).

Choices a reader of the numbers should know:

* PESQ rate: 16 kHz files are scored wide-band, 8 kHz narrow-band; any other rate is resampled
  (``sepssl.audio.resample``) to 16 kHz when it is at least 16 kHz, else to 8 kHz. The mode used is
  in each row (`pesq_mode`). STOI resamples internally (to 10 kHz); SI-SDR uses the file's rate.
* Lengths: estimate / input / reference are trimmed to the shortest and the row notes it.
* Rates: an estimate or input at another rate than its reference is resampled to the reference
  rate and the row notes it.
* Channels: when reference and estimate have the same number of channels every channel pair is
  scored and the file's score is the mean over channels; when the counts differ, channel 0 of each
  is scored and the row notes it.
* A digitally silent reference or estimate makes every metric NaN ("silent reference",
  "silent estimate"): SI-SDR and STOI are 0/0 there and any number would be an artefact.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time
import warnings
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from . import audio
from .errors import AudioError, DataError, SepsslError
from .losses import si_sdr as _si_sdr
from .losses import snr as _snr

#: Metrics computed by default, in report order.
DEFAULT_METRICS = ("pesq", "stoi", "estoi", "si_sdr")
#: Reference-free DNSMOS outputs added with ``dnsmos=True`` (needs the `speechmos` package).
DNSMOS_METRICS = ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak")
#: Every metric `score_pair` knows.
KNOWN_METRICS = DEFAULT_METRICS + DNSMOS_METRICS
#: PESQ refuses shorter signals (BufferTooShortError).
PESQ_MIN_SECONDS = 0.25

_ENV_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass
class EvaluationResult:
    """What `evaluate` returns; `rows` and `summary` are JSON-friendly (NaN for missing scores)."""
    rows: list[dict]
    summary: dict
    unpaired: list[dict] = field(default_factory=list)
    report_files: dict[str, Path] = field(default_factory=dict)


# --------------------------------------------------------------------------- scoring one pair

def score_pair(ref, est, sample_rate: int, metrics: Sequence[str] = DEFAULT_METRICS) -> dict:
    """Scores of `est` against `ref` (both `(time,)` or `(channels, time)`, same rate).

    Returns ``{metric: float, ..., "errors": {metric: reason}}``; a metric that cannot be computed
    is NaN and its reason is in ``errors`` (empty when all succeeded). Lengths that differ are
    trimmed to the shorter; several channels are scored pairwise and averaged.
    """
    metrics = _check_metrics(metrics)
    ref2, est2 = _as_2d(ref), _as_2d(est)
    n = min(ref2.shape[-1], est2.shape[-1])
    ref2, est2 = ref2[..., :n], est2[..., :n]
    if ref2.shape[0] != est2.shape[0]:
        ref2, est2 = ref2[:1], est2[:1]
    values, errors = _score_channels(ref2, est2, int(sample_rate), metrics, "estimate")
    return {**values, "errors": errors}


def _score_channels(ref: np.ndarray, deg: np.ndarray, rate: int, metrics: Sequence[str],
                    deg_name: str, ref_pesq: list | None = None) -> tuple[dict, dict]:
    """Score channel pairs of `(channels, time)` arrays and average them; NaN wins."""
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    per_channel = []
    for c in range(ref.shape[0]):
        rp = ref_pesq[c] if ref_pesq is not None else None
        per_channel.append(_score_mono(ref[c], deg[c], rate, metrics, deg_name, rp))
    for m in metrics:
        vals = [v[m] for v, _ in per_channel]
        reasons = [e[m] for _, e in per_channel if m in e]
        if reasons:
            values[m] = math.nan
            errors[m] = reasons[0]
        else:
            values[m] = float(np.mean(vals))
    return values, errors


def _score_mono(ref: np.ndarray, deg: np.ndarray, rate: int, metrics: Sequence[str],
                deg_name: str, ref_pesq: tuple[np.ndarray, int] | None = None
                ) -> tuple[dict, dict]:
    """All metrics for one mono pair: `(values, errors)`; failures are NaN with a reason."""
    ref = np.asarray(ref, dtype=np.float64)
    deg = np.asarray(deg, dtype=np.float64)
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    common = _precheck(ref, deg, deg_name)
    for m in metrics:
        if m.startswith("dnsmos_"):
            continue  # reference-free: scored separately, and a silent reference is irrelevant
        if common:
            values[m], errors[m] = math.nan, common
            continue
        try:
            if m == "pesq":
                v, why = _pesq(ref, deg, rate, ref_pesq, deg_name)
            elif m in ("stoi", "estoi"):
                v, why = _stoi(ref, deg, rate, extended=(m == "estoi"))
            elif m == "si_sdr":
                v = float(_si_sdr(torch.from_numpy(deg), torch.from_numpy(ref)))
                why = None if math.isfinite(v) else "non-finite result"
            else:  # pragma: no cover - _check_metrics rejects these
                raise ValueError(m)
        except Exception as exc:  # a metric bug must not cost the whole run
            v, why = math.nan, f"{type(exc).__name__}: {_text(exc)}"
        values[m] = v if why is None else math.nan
        if why is not None:
            errors[m] = why
    dn = [m for m in metrics if m.startswith("dnsmos_")]
    if dn:
        v, e = _dnsmos(deg, rate, dn, deg_name)
        values.update(v)
        errors.update(e)
    return values, errors


def _precheck(ref: np.ndarray, deg: np.ndarray, deg_name: str) -> str | None:
    """A reason shared by every reference-based metric, or None."""
    if not np.isfinite(ref).all():
        return "NaN/Inf in reference"
    if not np.isfinite(deg).all():
        return f"NaN/Inf in {deg_name}"
    if not np.any(ref):
        return "silent reference"
    if not np.any(deg):
        return f"silent {deg_name}"
    return None


def pesq_mode_for(rate: int) -> tuple[int, str]:
    """(rate PESQ runs at, 'wb' or 'nb') for a file at `rate` Hz."""
    return (16000, "wb") if rate >= 16000 else (8000, "nb")


def _pesq_input(x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    fs, _ = pesq_mode_for(rate)
    if fs != rate:
        x = audio.resample(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
                           rate, fs).double().numpy()
    return x, fs


def _pesq(ref: np.ndarray, deg: np.ndarray, rate: int, ref_pesq, deg_name: str
          ) -> tuple[float, str | None]:
    import pesq as pesqlib

    ref16, fs = ref_pesq if ref_pesq is not None else _pesq_input(ref, rate)
    deg16, _ = _pesq_input(deg, rate)
    n = min(len(ref16), len(deg16))
    if n < PESQ_MIN_SECONDS * fs:
        return math.nan, "too short"
    mode = pesq_mode_for(rate)[1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = pesqlib.pesq(fs, ref16[:n], deg16[:n], mode)
    except Exception as exc:
        return math.nan, pesq_reason(exc, deg_name)
    return pesq_value(value, deg_name)


def pesq_value(result, deg_name: str = "estimate") -> tuple[float, str | None]:
    """(score, None) or (NaN, reason) for one result of `pesq.pesq` or an item of `pesq_batch`.

    `pesq_batch` with several processes puts exception objects in its result list, and
    `on_error=RETURN_VALUES` gives negative error codes: both become NaN with a reason.
    """
    if isinstance(result, BaseException):
        return math.nan, pesq_reason(result, deg_name)
    value = float(result)
    if not math.isfinite(value) or value < 0:
        return math.nan, f"pesq error code {value:g}" if math.isfinite(value) else "non-finite result"
    return value, None


def pesq_reason(exc: BaseException, deg_name: str = "estimate") -> str:
    """A short human reason for an exception raised (or returned) by pesq 0.0.4."""
    import pesq as pesqlib

    if isinstance(exc, pesqlib.NoUtterancesError):
        return "no speech detected in reference"
    if isinstance(exc, pesqlib.BufferTooShortError):
        return "too short"
    if isinstance(exc, pesqlib.InvalidSampleRateError):
        return "unsupported sample rate"
    if isinstance(exc, pesqlib.OutOfMemoryError):
        return "out of memory"
    msg = _text(exc)
    if isinstance(exc, ValueError) and "NaN" in msg:
        # pesq normalises by the peak and a silent estimate turns into NaN inside the C code
        return f"silent {deg_name}"
    if isinstance(exc, ValueError) and ("fs" in msg or "band" in msg):
        return "unsupported sample rate"
    return f"pesq error: {msg}"


def _stoi(ref: np.ndarray, deg: np.ndarray, rate: int, extended: bool
          ) -> tuple[float, str | None]:
    from pystoi import stoi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(stoi(ref, deg, rate, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        # fewer than 30 non-silent frames (short file or mostly silent reference): pystoi
        # returns 1e-5 here, a placeholder, not a score
        return math.nan, "too little speech"
    if not math.isfinite(value):
        return math.nan, "non-finite result"
    return value, None


def dnsmos_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("speechmos") is not None


def _dnsmos(deg: np.ndarray, rate: int, names: Sequence[str], deg_name: str
            ) -> tuple[dict, dict]:
    """Reference-free DNSMOS (P.835 SIG/BAK/OVRL) through `speechmos`, at 16 kHz."""
    nan = {m: math.nan for m in names}
    if not np.isfinite(deg).all():
        return nan, {m: f"NaN/Inf in {deg_name}" for m in names}
    if not np.any(deg):
        return nan, {m: f"silent {deg_name}" for m in names}
    try:
        from speechmos import dnsmos
        x = deg
        if rate != 16000:
            x = audio.resample(torch.from_numpy(x.astype(np.float32)), rate, 16000).double().numpy()
        peak = np.abs(x).max()
        if peak > 1:
            x = x / peak
        out = dnsmos.run(x.astype(np.float32), 16000)
        keys = {"dnsmos_ovrl": "ovrl_mos", "dnsmos_sig": "sig_mos", "dnsmos_bak": "bak_mos"}
        return {m: float(out[keys[m]]) for m in names}, {}
    except Exception as exc:
        return nan, {m: f"dnsmos error: {_text(exc)}" for m in names}


# --------------------------------------------------------------------------- scoring one file

def _score_file(task: tuple) -> dict:
    """One row: read the files of one pair and score them. Never raises."""
    rel, ref_path, est_path, noisy_path, metrics, has_input = task
    try:
        return _score_file_inner(rel, ref_path, est_path, noisy_path, metrics, has_input)
    except Exception as exc:  # a bug or an odd file must not cost the other files
        row = _empty_row(rel, metrics, has_input)
        row["status"] = "failed"
        row["errors"]["file"] = f"internal error: {type(exc).__name__}: {_text(exc)}"
        return row


def _empty_row(rel: str, metrics: Sequence[str], has_input: bool) -> dict:
    row: dict = {"file": rel, "status": "ok", "sample_rate": None, "duration_s": math.nan,
                 "channels": None, "pesq_mode": None}
    for m in metrics:
        row[m] = math.nan
    if has_input:
        for m in metrics:
            row[f"{m}_input"] = math.nan
        for m in metrics:
            row[f"{m}_delta"] = math.nan
        row["input_snr"] = math.nan
    row["errors"] = {}
    row["notes"] = {}
    return row


def _read(path: str, what: str, row: dict) -> tuple[np.ndarray, int] | None:
    """(samples, rate), or None with the reason in the row (an unreadable input only costs
    the input-side scores, so it is keyed apart from the reference / estimate)."""
    try:
        wav, rate = audio.read(path, sample_rate=None, check=False)
    except AudioError as exc:
        row["errors"]["input_file" if what == "input" else "file"] = f"unreadable {what}"
        row["notes"][f"unreadable {what}"] = _text(exc)
        return None
    return wav.numpy(), int(rate)


def _score_file_inner(rel, ref_path, est_path, noisy_path, metrics, has_input) -> dict:
    row = _empty_row(rel, metrics, has_input)
    ref = _read(ref_path, "reference", row)
    est = _read(est_path, "estimate", row)
    noisy = _read(noisy_path, "input", row) if noisy_path is not None else None
    if ref is None or est is None:
        row["status"] = "failed"
        return row
    ref_x, rate = ref
    row["sample_rate"] = rate
    est_x = _match_rate(est, rate, "estimate", row)
    noisy_x = _match_rate(noisy, rate, "input", row) if noisy is not None else None

    # channels
    row["channels"] = ref_x.shape[0]
    sides = {"estimate": est_x} if noisy_x is None else {"estimate": est_x, "input": noisy_x}
    if any(x.shape[0] != ref_x.shape[0] for x in sides.values()):
        counts = ", ".join(f"{k} {x.shape[0]}" for k, x in {"reference": ref_x, **sides}.items())
        row["notes"]["channels"] = f"channel counts differ ({counts}); scored channel 0"
        ref_x = ref_x[:1]
        sides = {k: x[:1] for k, x in sides.items()}
        row["channels"] = 1

    # lengths
    lengths = {"reference": ref_x.shape[-1], **{k: x.shape[-1] for k, x in sides.items()}}
    n = min(lengths.values())
    if len(set(lengths.values())) > 1:
        longest = max(lengths, key=lengths.get)
        diff = max(lengths.values()) - n
        row["notes"]["trimmed"] = (f"lengths differ by {diff} samples ({1000 * diff / rate:.0f} ms, "
                                   f"{longest} longest); scored the first {n}")
        ref_x = ref_x[:, :n]
        sides = {k: x[:, :n] for k, x in sides.items()}
    row["duration_s"] = n / rate

    ref_d = ref_x.astype(np.float64)
    ref_pesq = None
    if "pesq" in metrics:
        fs, mode = pesq_mode_for(rate)
        row["pesq_mode"] = mode
        if fs != rate:
            row["notes"]["pesq resampled"] = f"{rate} Hz scored by PESQ at {fs} Hz ({mode})"
        if np.isfinite(ref_d).all():
            ref_pesq = [_pesq_input(ref_d[c], rate) for c in range(ref_d.shape[0])]

    values, errors = _score_channels(ref_d, sides["estimate"].astype(np.float64), rate, metrics,
                                     "estimate", ref_pesq)
    row.update(values)
    row["errors"].update(errors)
    if noisy_x is not None:
        nd = sides["input"].astype(np.float64)
        values, errors = _score_channels(ref_d, nd, rate, metrics, "input", ref_pesq)
        for m in metrics:
            row[f"{m}_input"] = values[m]
            row[f"{m}_delta"] = row[m] - values[m]  # NaN when either side failed
        row["errors"].update({f"{m}_input": r for m, r in errors.items()})
        if np.any(ref_d) and np.isfinite(nd).all() and np.isfinite(ref_d).all():
            snrs = _snr(torch.from_numpy(nd), torch.from_numpy(ref_d))
            row["input_snr"] = float(snrs.mean())
    if row["errors"]:
        row["status"] = "partial"
    return row


def _match_rate(loaded: tuple[np.ndarray, int], rate: int, what: str, row: dict) -> np.ndarray:
    x, r = loaded
    if r != rate:
        row["notes"][f"{what} resampled"] = f"{what} at {r} Hz resampled to the reference's {rate} Hz"
        x = audio.resample(torch.from_numpy(x), r, rate).numpy()
    return x


# --------------------------------------------------------------------------- pairing

def pair_files(ref_dir, est_dir, noisy_dir=None) -> tuple[list[tuple], list[dict]]:
    """`[(relative path, ref, est, noisy|None)]` paired by relative path, and the unpaired.

    Paths are matched without their extension (``a/b.wav`` pairs with ``a/b.flac``). When both
    `ref_dir` and `est_dir` are single files they pair whatever their names.
    """
    ref_p, est_p = Path(ref_dir), Path(est_dir)
    noisy_p = Path(noisy_dir) if noisy_dir is not None else None
    refs = _listing(ref_p, "reference")
    ests = _listing(est_p, "estimate")
    noisies = _listing(noisy_p, "input") if noisy_p is not None else None
    if ref_p.is_file() and est_p.is_file():
        key = next(iter(refs))
        ests = {key: next(iter(ests.values()))}
        if noisies is not None and noisy_p.is_file():
            noisies = {key: next(iter(noisies.values()))}

    pairs, unpaired = [], []
    for key in sorted(set(refs) | set(ests)):
        r, e = refs.get(key), ests.get(key)
        if r is None or e is None:
            rel = (r or e)[0]
            unpaired.append({"file": rel, "missing": "estimate" if e is None else "reference"})
            continue
        n = None
        if noisies is not None:
            n = noisies.get(key)
            if n is None:
                unpaired.append({"file": r[0], "missing": "input"})
        pairs.append((r[0], str(r[1]), str(e[1]), str(n[1]) if n else None))
    if noisies is not None:
        for key in sorted(set(noisies) - set(refs) - set(ests)):
            unpaired.append({"file": noisies[key][0], "missing": "reference and estimate"})
    if not pairs:
        raise DataError(
            f"no estimate in {est_p} pairs with a reference in {ref_p} ({len(ests)} estimate(s), "
            f"{len(refs)} reference(s)); files pair by relative path, e.g. ref/a/b.wav with est/a/b.wav")
    return pairs, unpaired


def _listing(root: Path, what: str) -> dict[str, tuple[str, Path]]:
    """{key: (relative path shown, path)} for a folder (recursive) or a single file."""
    if not root.exists():
        raise DataError(f"{root}: no such file or folder (the {what} side)")
    if root.is_file():
        return {root.stem: (root.name, root)}
    out: dict[str, tuple[str, Path]] = {}
    for p in audio.find_audio(root):
        rel = p.relative_to(root)
        key = rel.with_suffix("").as_posix()
        if key in out:  # a.wav and a.flac side by side: keep both, each by its full name
            old = out.pop(key)
            out[old[0]] = old
            key = rel.as_posix()
        out[key] = (rel.as_posix(), p)
    return out


# --------------------------------------------------------------------------- running

def evaluate(ref_dir, est_dir, noisy_dir=None, report_dir=None, jobs: int | None = None,
             progress: bool = True, dnsmos: bool = False,
             metrics: Sequence[str] = DEFAULT_METRICS) -> EvaluationResult:
    """Score every estimate against its reference (and the noisy input, when given).

    Files pair by relative path; unpaired ones are listed, unreadable ones become failed rows.
    With `report_dir`, writes scores.csv, summary.json, summary.md and report.html there.
    `jobs` worker processes (default: every core this process may use; 1 scores in this
    process). Call it under ``if __name__ == "__main__":`` from scripts (spawn-based platforms).
    """
    t0 = time.perf_counter()
    metrics = _check_metrics(metrics)
    if dnsmos:
        if not dnsmos_available():
            raise SepsslError("DNSMOS needs the optional package 'speechmos': "
                              "pip install 'sepssl[dnsmos]', or evaluate without --dnsmos")
        metrics = metrics + tuple(m for m in DNSMOS_METRICS if m not in metrics)
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise SepsslError(f"jobs must be at least 1, not {jobs}")
    pairs, unpaired = pair_files(ref_dir, est_dir, noisy_dir)
    has_input = noisy_dir is not None
    tasks = [(rel, r, e, n, metrics, has_input) for rel, r, e, n in pairs]
    rows = _run(tasks, jobs, progress)
    rows.sort(key=lambda row: row["file"])
    summary = summarize(rows, unpaired, metrics, has_input=has_input)
    summary["reference"] = str(ref_dir)
    summary["estimate"] = str(est_dir)
    summary["input"] = str(noisy_dir) if noisy_dir is not None else None
    summary["jobs"] = min(jobs, len(tasks))
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    result = EvaluationResult(rows=rows, summary=summary, unpaired=unpaired)
    if report_dir is not None:
        from .report import write_report
        result.report_files = write_report(report_dir, rows, summary)
    return result


def default_jobs() -> int:
    """The cores this process may use (its CPU affinity, e.g. a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _run(tasks: list[tuple], jobs: int, progress: bool) -> list[dict]:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), unit="file", desc="scoring", disable=not progress,
               dynamic_ncols=True)
    try:
        if jobs == 1 or len(tasks) == 1:
            rows = []
            with _one_thread():
                for t in tasks:
                    rows.append(_score_file(t))
                    bar.update(1)
            return rows
        return _run_pool(tasks, jobs, bar)
    finally:
        bar.close()


def _run_pool(tasks: list[tuple], jobs: int, bar) -> list[dict]:
    """Chunks of files to a process pool; at most two chunks in flight per worker."""
    workers = min(jobs, len(tasks))
    size = max(1, min(16, math.ceil(len(tasks) / (workers * 6))))
    chunks = iter([tasks[i:i + size] for i in range(0, len(tasks), size)])
    rows: list[dict] = []
    with _single_thread_env(), ProcessPoolExecutor(
            max_workers=workers, mp_context=_mp_context(), initializer=_init_worker) as pool:
        pending = set()
        try:
            for chunk in chunks:
                pending.add(pool.submit(_score_chunk, chunk))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    got = fut.result()
                    rows.extend(got)
                    bar.update(len(got))
                    nxt = next(chunks, None)
                    if nxt is not None:
                        pending.add(pool.submit(_score_chunk, nxt))
        except BrokenProcessPool:
            raise SepsslError("a scoring worker process died (out of memory, or a script calling "
                              "evaluate() without `if __name__ == '__main__':`); "
                              "try fewer jobs, e.g. --jobs 1") from None
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return rows


def _score_chunk(chunk: list[tuple]) -> list[dict]:
    return [_score_file(t) for t in chunk]


def _mp_context():
    """fork where it is safe (no CUDA initialised here; Python ≥ 3.12 warns when forking a
    threaded process), so workers start in milliseconds instead of re-importing torch;
    else forkserver (torch imported once, in the server), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and sys.version_info < (3, 12) and not torch.cuda.is_initialized():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])  # torch imported once, in the server
        return ctx
    return multiprocessing.get_context("spawn")


class _single_thread_env:
    """Set the BLAS/OpenMP thread variables to 1 while workers start (spawned and forkserver
    children read them when they load numpy); restored afterwards."""

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in _ENV_THREADS}
        for k in _ENV_THREADS:
            os.environ[k] = "1"
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return False


def _init_worker() -> None:
    """One thread per worker: N workers on N cores, not N×N threads fighting."""
    for k in _ENV_THREADS:
        os.environ[k] = "1"
    torch.set_num_threads(1)
    _set_blas_threads(1)


class _one_thread:
    """In-process scoring with the same single torch/BLAS thread as the workers: jobs=1 is
    then the same computation as jobs=N (equal to ~1e-15; NumPy's SIMD sums still depend on
    memory alignment) and a fair baseline for timing."""

    def __enter__(self):
        self.torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        self.blas = _set_blas_threads(1)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self.torch_threads)
        for setter, n in self.blas:
            setter(n)
        return False


def _set_blas_threads(n: int) -> list:
    """Best effort: set the thread count of every OpenBLAS loaded in this process (NumPy's
    bundled one included) and return [(setter, previous count)]. NumPy has no API for it
    and threadpoolctl is not a dependency; after a fork OpenBLAS keeps the parent's count,
    so pystoi's matrix products would otherwise use every core in every worker."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return []
    done = []
    for lib in sorted(libs):
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                setter = getattr(handle, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(handle, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    getter.restype = ctypes.c_int
                    done.append((setter, int(getter())))
                    setter(int(n))
                    break
            else:
                continue
            break
    return done


# --------------------------------------------------------------------------- summary

def stats(values: Iterable[float]) -> dict:
    """mean / median / std (sample) / min / max over the finite values, and how many were NaN."""
    arr = np.asarray(list(values), dtype=np.float64)
    ok = arr[np.isfinite(arr)]
    if ok.size == 0:
        return {"mean": math.nan, "median": math.nan, "std": math.nan, "min": math.nan,
                "max": math.nan, "count": 0, "nan": int(arr.size)}
    return {"mean": float(ok.mean()), "median": float(np.median(ok)),
            "std": float(ok.std(ddof=1)) if ok.size > 1 else 0.0,
            "min": float(ok.min()), "max": float(ok.max()),
            "count": int(ok.size), "nan": int(arr.size - ok.size)}


def summarize(rows: list[dict], unpaired: list[dict], metrics: Sequence[str],
              has_input: bool) -> dict:
    """Per-metric statistics for input / enhanced / improvement, and the failures counted."""
    metrics = tuple(metrics)
    scores: dict[str, dict] = {}
    for m in metrics:
        entry = {"enhanced": stats(r[m] for r in rows)}
        if has_input:
            entry["input"] = stats(r[f"{m}_input"] for r in rows)
            entry["improvement"] = stats(r[f"{m}_delta"] for r in rows)
        scores[m] = entry
    if has_input:
        scores["input_snr"] = {"input": stats(r["input_snr"] for r in rows)}

    failures: dict[str, Counter] = {}
    for r in rows:
        for col, reason in r["errors"].items():
            failures.setdefault(col, Counter())[reason] += 1
    failure_text = []
    for col in ["file", "input_file"] + [c for m in metrics for c in (m, f"{m}_input")]:
        c = failures.get(col)
        if not c:
            continue
        parts = ", ".join(f"{n} {reason}" for reason, n in
                          sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        n_files = sum(c.values())
        files = f"{n_files} file{'s' if n_files != 1 else ''}"
        if col == "file":
            failure_text.append(f"{files} not scored: {parts}")
        elif col == "input_file":
            failure_text.append(f"noisy input not scored on {files}: {parts}")
        elif col.endswith("_input"):
            if failures.get(col[:-6]) != c:  # identical to the enhanced side: said there
                failure_text.append(f"{col[:-6]} (input) failed on {files}: {parts}")
        else:
            same = failures.get(f"{col}_input") == c
            failure_text.append(f"{col} failed on {files}: {parts}"
                                + (" (on the noisy input too)" if same else ""))

    notes = Counter(k for r in rows for k in r["notes"] if not k.startswith("unreadable"))
    missing = Counter(u["missing"] for u in unpaired)
    return {
        "metrics": list(metrics),
        "has_input": has_input,
        "files": {
            "total": len(rows) + sum(n for k, n in missing.items() if k != "input"),
            "paired": len(rows),
            "scored": sum(r["status"] != "failed" for r in rows),
            "failed": sum(r["status"] == "failed" for r in rows),
            "partial": sum(r["status"] == "partial" for r in rows),
            "unpaired": sum(n for k, n in missing.items() if k != "input"),
            "missing_input": missing.get("input", 0),
        },
        "scores": scores,
        "failures": {k: dict(v) for k, v in failures.items()},
        "failure_text": failure_text,
        "notes": dict(notes),
        "pesq_modes": dict(Counter(r["pesq_mode"] for r in rows if r.get("pesq_mode"))),
        "sample_rates": {str(k): v for k, v in
                         sorted(Counter(r["sample_rate"] for r in rows if r["sample_rate"]).items())},
        "unpaired": list(unpaired),
    }


# --------------------------------------------------------------------------- helpers

def _check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    metrics = tuple(metrics)
    unknown = [m for m in metrics if m not in KNOWN_METRICS]
    if unknown:
        raise SepsslError(f"unknown metric(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(KNOWN_METRICS)}")
    if any(m.startswith("dnsmos_") for m in metrics) and not dnsmos_available():
        raise SepsslError("DNSMOS needs the optional package 'speechmos': pip install 'sepssl[dnsmos]'")
    return metrics


def _as_2d(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return x[None]
    if x.ndim == 2:
        return x
    raise ValueError(f"expected (time,) or (channels, time) audio, got shape {x.shape}")


def _text(exc: BaseException) -> str:
    """An exception's message as str (pesq's are bytes), one line, bounded."""
    arg = exc.args[0] if len(exc.args) == 1 else (str(exc) or type(exc).__name__)
    if isinstance(arg, (bytes, bytearray)):
        arg = arg.decode("utf-8", errors="replace")
    text = str(arg).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
