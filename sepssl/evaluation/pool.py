"""Score many file pairs in parallel processes, one BLAS / torch thread per process.

asteroid's `get_metrics` (and ESPnet's scoring stage) score one file after another; PESQ and
STOI are CPU-bound C / NumPy code, so a process pool with one thread per worker scales with
the cores. `pesq.pesq_batch` is not used: it starts a pool of its own per call (which would
nest inside this one) and covers PESQ only. The pool is `concurrent.futures`' and the thread
limits are `threadpoolctl`'s; what is decided here is the start method, the chunk size and
that jobs=1 runs the same single-threaded computation in this process.
"""
from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator, Sequence

import torch

from ..errors import SepsslError
from . import scoring
from .scoring import FileTask, score_file


def default_jobs() -> int:
    """The number of cores this process may use (its CPU affinity, e.g. a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def score_files(tasks: Sequence[FileTask], jobs: int, progress: bool = True) -> list[dict]:
    """Score every task, with a progress bar on stderr.

    Args:
        tasks: the pairs to score.
        jobs: worker processes; 1 (or a single task) scores in this process.
        progress: show the tqdm bar.

    Returns:
        One row per task (`scoring.score_file`), in the order of `tasks`. A file that fails
        is a row with NaN scores and its reason, never an exception.

    Raises:
        SepsslError: a worker process died (out of memory, or a script that calls
            `evaluate` without an ``if __name__ == "__main__":`` guard).
    """
    from tqdm.auto import tqdm

    with tqdm(total=len(tasks), unit="file", desc="scoring", disable=not progress,
              dynamic_ncols=True) as bar:
        if jobs == 1 or len(tasks) == 1:
            rows = []
            with _one_thread():
                for t in tasks:
                    rows.append(score_file(t))
                    bar.update(1)
            return rows
        return _score_in_pool(tasks, jobs, bar)


def _score_in_pool(tasks: Sequence[FileTask], jobs: int, bar) -> list[dict]:
    workers = min(jobs, len(tasks))
    # chunks amortise the pickling, several per worker balance long files against short ones
    chunksize = max(1, min(16, math.ceil(len(tasks) / (workers * 6))))
    rows: list[dict] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                             initializer=_init_worker) as pool:
        try:
            for row in pool.map(score_file, tasks, chunksize=chunksize):
                rows.append(row)
                bar.update(1)
        except BrokenProcessPool:
            raise SepsslError("a scoring worker process died (out of memory, or a script calling "
                              "evaluate() without `if __name__ == '__main__':`); "
                              "try fewer jobs, e.g. --jobs 1") from None
        except BaseException:  # Ctrl-C: drop the queued chunks instead of scoring them all
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return rows


def _mp_context():
    """fork where it is safe (no CUDA initialised here; Python ≥ 3.12 warns when forking a
    threaded process), so workers start in milliseconds instead of re-importing torch;
    else forkserver (torch imported once, in the server), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and sys.version_info < (3, 12) and not torch.cuda.is_initialized():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([scoring.__name__])
        return ctx
    return multiprocessing.get_context("spawn")


def _load_metric_libraries() -> None:
    """Import the metric libraries now: `threadpool_limits` only reaches the native thread
    pools already loaded, and SciPy (under pystoi) may bring an OpenBLAS of its own."""
    import pesq  # noqa: F401
    import pystoi  # noqa: F401


def _init_worker() -> None:
    """One thread per worker: N workers on N cores, not N×N threads fighting. A forked worker
    keeps its parent's BLAS thread count, so it is limited here, not by the environment."""
    from threadpoolctl import threadpool_limits

    _load_metric_libraries()
    torch.set_num_threads(1)
    threadpool_limits(limits=1)  # for the life of the worker


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """In-process scoring with the same single torch / BLAS thread as the workers: jobs=1 is
    then the same computation as jobs=N (equal to ~1e-15; NumPy's SIMD sums still depend on
    memory alignment) and a fair baseline for timing. The thread counts are restored after."""
    from threadpoolctl import threadpool_limits

    _load_metric_libraries()
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(saved)
