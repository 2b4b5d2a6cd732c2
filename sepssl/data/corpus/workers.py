"""Running render jobs, in this process or in a pool of worker processes.

Why: TTS, rooms and mixing are CPU-bound, so jobs run in processes. Workers are started by
forkserver (spawn where there is none), not fork: forking a parent that has torch's or BLAS's
threads running can deadlock a child. A worker gets the render function and its context once,
through the pool's initializer, and each job as a picklable argument; results come back in
job order, so the corpus does not depend on the number of workers.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

#: Imported once by the forkserver, so that each worker starts without importing torch again.
_PRELOAD = [__name__.rpartition(".")[0] + ".render"]

# This worker process's render function and context, set by `_start_worker` (in the pool's
# processes only).
_WORKER: dict[str, Any] = {}


def run_jobs(fn: Callable[[Any, Any], Any], jobs: Sequence[Any], context: Any = None, *,
             workers: int = 2, progress: bool = True, desc: str = "", chunksize: int = 4
             ) -> Iterator[Any]:
    """Yield `fn(job, context)` for every job, in job order.

    Args:
        fn: a module-level function (workers import it by name).
        jobs: picklable jobs.
        context: what every job needs besides itself (picklable); sent to each worker once.
        workers: number of processes; 1 or less runs the jobs in this process.
        progress: show a progress bar.
        desc: the progress bar's label.
        chunksize: jobs sent to a worker at a time (1 for few, long jobs).

    Yields:
        Each job's result, in the order of `jobs`.
    """
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc=desc, disable=not progress, unit="clip")
    try:
        if workers <= 1:
            for job in jobs:
                yield fn(job, context)
                bar.update()
            return
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                   initializer=_start_worker, initargs=(fn, context))
        try:
            for result in pool.map(_run_one, jobs, chunksize=chunksize):
                yield result
                bar.update()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    finally:
        bar.close()


def warm_up(workers: int) -> None:
    """Start the forkserver now, so that it imports the render modules while the caller works.

    Args:
        workers: the number of processes `run_jobs` will be asked for; nothing happens for 1
            or less, or where workers are spawned.
    """
    if workers > 1 and _mp_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _mp_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _start_worker(fn: Callable[[Any, Any], Any], context: Any) -> None:
    import torch

    torch.set_num_threads(1)
    _WORKER["fn"], _WORKER["context"] = fn, context


def _run_one(job: Any) -> Any:
    return _WORKER["fn"](job, _WORKER["context"])
