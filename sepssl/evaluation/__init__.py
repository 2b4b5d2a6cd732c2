"""Score enhanced speech against references (PESQ, STOI / ESTOI, SI-SDR, optional DNSMOS)
and write a report; what `sepssl evaluate` runs.

    from sepssl.evaluation import evaluate
    result = evaluate("ref/", "enhanced/", noisy_dir="noisy/", report_dir="report/")
    result.summary["scores"]["pesq"]["improvement"]["mean"]

The modules, one job each: `pairing` (files by relative path), `metrics` (per-signal scores,
failures as NaN with a reason), `scoring` (one file pair into one row), `pool` (many pairs in
parallel processes), `summary` (statistics and failure counts), `report` (scores.csv,
summary.json, and through `markdown` / `html_page` / `plots`, summary.md and report.html).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .. import __version__
from ..errors import SepsslError
from ..provenance import command_line, now, read_enhance_record
from . import metrics as _metrics
from .metrics import (
    DEFAULT_METRICS, DNSMOS_METRICS, KNOWN_METRICS, PESQ_MIN_SECONDS, dnsmos_available,
    pesq_mode_for, pesq_reason, pesq_value, score_pair,
)
from .pairing import Pair, pair_files
from .pool import default_jobs, score_files
from .report import write_report
from .scoring import FileTask, score_file
from .summary import stats, summarize

__all__ = [
    "evaluate", "EvaluationResult", "score_pair", "pair_files", "Pair", "summarize", "stats",
    "write_report", "default_jobs", "score_file", "FileTask", "dnsmos_available",
    "pesq_mode_for", "pesq_reason", "pesq_value", "DEFAULT_METRICS", "DNSMOS_METRICS",
    "KNOWN_METRICS", "PESQ_MIN_SECONDS",
]


@dataclass
class EvaluationResult:
    """What `evaluate` returns; `rows` and `summary` are JSON-friendly (NaN for missing scores).

    Attributes:
        rows: one dict per paired file, sorted by file (`scoring.score_file`).
        summary: statistics and counts (`summary.summarize`), plus ``reference``,
            ``estimate``, ``input`` (the folders), ``jobs`` and ``seconds``.
        unpaired: ``{"file", "missing"}`` per file without its partner.
        report_files: ``{"csv", "json", "markdown", "html": path}`` when a report was written.
    """
    rows: list[dict]
    summary: dict
    unpaired: list[dict] = field(default_factory=list)
    report_files: dict[str, Path] = field(default_factory=dict)


def evaluate(ref_dir, est_dir, noisy_dir=None, report_dir=None, jobs: int | None = None,
             progress: bool = True, dnsmos: bool = False,
             metrics: Sequence[str] = DEFAULT_METRICS, allow_short: bool = False
             ) -> EvaluationResult:
    """Score every estimate against its reference (and the noisy input, when given).

    Files pair by relative path (`pairing.pair_files`); unpaired ones are listed, unreadable
    ones become failed rows, and a metric that cannot be computed on a file is NaN with its
    reason. Call it under ``if __name__ == "__main__":`` from scripts (the worker processes
    of spawn-based platforms import the main module).

    Args:
        ref_dir: folder (recursive) or single file of clean references.
        est_dir: folder or single file of enhanced estimates.
        noisy_dir: folder or single file of the unprocessed inputs, or None; with it each
            metric is also scored on the input and the improvement reported.
        report_dir: where to write scores.csv, summary.json, summary.md and report.html;
            None writes nothing.
        jobs: worker processes (default: every core this process may use; 1 scores in this
            process).
        progress: show a progress bar on stderr.
        dnsmos: add the reference-free DNSMOS scores (needs `speechmos`).
        metrics: names from `KNOWN_METRICS`, in report order.
        allow_short: score an estimate shorter than 90% of its reference on the overlap
            (otherwise that file fails: a cut-off output must not pass as scored).

    Returns:
        The rows, the summary, the unpaired files and the report's paths.

    Raises:
        DataError: a side does not exist or nothing pairs.
        SepsslError: an unknown metric, DNSMOS without `speechmos`, jobs < 1, or a worker
            process died.
    """
    t0 = time.perf_counter()
    if report_dir is not None and Path(report_dir).exists() and not Path(report_dir).is_dir():
        raise SepsslError(f"--report {report_dir}: is a file; give a folder for the report")
    metrics = _metrics.check_metrics(metrics)
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
    tasks = [FileTask(p.file, p.reference, p.estimate, p.input, metrics, has_input, allow_short)
             for p in pairs]
    rows = score_files(tasks, jobs, progress)
    rows.sort(key=lambda row: row["file"])
    summary = summarize(rows, unpaired, metrics, has_input=has_input)
    summary["reference"] = str(ref_dir)
    summary["estimate"] = str(est_dir)
    summary["input"] = str(noisy_dir) if noisy_dir is not None else None
    summary["jobs"] = min(jobs, len(tasks))
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["provenance"] = {"sepssl": __version__, "command": command_line(), "date": now(),
                             "enhanced_by": read_enhance_record(est_dir)}
    result = EvaluationResult(rows=rows, summary=summary, unpaired=unpaired)
    if report_dir is not None:
        paths = {p.file: {"reference": p.reference, "estimate": p.estimate, "input": p.input}
                 for p in pairs}
        result.report_files = write_report(report_dir, rows, summary, paths)
    return result
