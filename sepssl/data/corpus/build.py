"""`build_corpus`: sources, split, plan, render, record, in that order.

Why: each step lives in its own module (`splits`, `plan`, `render`, `workers`, `manifest`);
this one only fetches the sources and passes each step's result to the next.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ...errors import DataError
from .. import debian, noise, realspeech, tts
from .manifest import BuildRecord, Row, summarise, write_manifests, write_summary
from .plan import BabbleJob, Plan, get_plan, plan_jobs, plan_voices_and_rooms
from .render import RenderContext, SpeechBanks, render_file, render_voice_or_room
from .splits import SPLITS, assign_speakers, split_noise, split_real_speakers
from .workers import run_jobs, warm_up

NOISE_PACKAGES = noise.PACKAGES
#: What `out_dir` may hold to be replaced: an earlier corpus.
_CORPUS_ENTRIES = ("train", "valid", "test", "test_real", "fullband", "manifests", "corpus.json")


def build_corpus(out_dir: str | os.PathLike, size: str = "small", seed: int = 0,
                 cache_dir: str | os.PathLike | None = None, progress: bool = True,
                 *, workers: int = 2, fullband: bool = False) -> dict:
    """Build the corpus into `out_dir` and return the summary written to `corpus.json`.

    Same seed, size and package versions give byte-identical wav files and manifests, whatever
    the number of `workers`. Worker processes start a fresh interpreter (forkserver or spawn)
    that imports the caller's main module, so a script calling this with `workers > 1` must do
    so under `if __name__ == "__main__":`.

    Args:
        out_dir: the corpus folder. It is replaced if it holds an earlier corpus (a folder
            with corpus.json or manifests/); any other non-empty folder is refused.
        size: "small" (espeak-ng and flite, cached packages only, no download) or "full"
            (all engines, downloads what is missing).
        seed: the corpus seed.
        cache_dir: the download / decode cache (default `~/.cache/sepssl`).
        progress: show progress bars.
        workers: processes for synthesis and mixing; 1 or less renders in this process.
        fullband: also write `fullband/`, the real speech and noise recorded at 44.1 / 48 kHz
            at their own rate (`sepssl.data.fullband`); the 16 kHz files are the same either way.

    Returns:
        The content of corpus.json: sources and package versions, counts, hours, speakers,
        split rules and mixing settings.

    Raises:
        DataError: an unknown size, a missing TTS engine, an output folder that holds
            something else, or a source that cannot be fetched or read.
    """
    t0 = time.time()
    plan = get_plan(size)
    out = Path(out_dir)
    cache = Path(cache_dir).expanduser() if cache_dir else Path("~/.cache/sepssl").expanduser()
    tts.check_engines(plan.engines)
    prepare_out(out)
    warm_up(workers)

    speech_pkgs, noise_pkgs, missing = fetch_sources(plan, cache)
    for m in missing:
        print(f"sepssl data: {m['package']} ({m['kind']}) is missing: {m['reason']}; "
              f"building without it", file=sys.stderr)
    banks = SpeechBanks(speech_pkgs, cache).load_all(workers, progress)
    voices = banks.describe()
    real_speakers = split_real_speakers({v: d["package"] for v, d in voices.items()})
    noise_pool = split_noise({pkg.name: noise.list_files(pkg) for pkg in noise_pkgs}, seed)
    speakers = assign_speakers(seed, tts.ESPEAK_ACCENTS, tts.espeak_variants(), plan.targets,
                               plan.babble_talkers, plan.engines)

    babble = {s: [] for s in SPLITS}
    rirs = {s: [] for s in SPLITS}
    first = plan_voices_and_rooms(plan, seed, speakers.babblers)
    for job, result in zip(first, run_jobs(render_voice_or_room, first, workers=workers,
                                           progress=progress, desc="voices/rooms")):
        if isinstance(job, BabbleJob):
            babble[job.split].append((job.speaker.id, result))
        else:
            rirs[job.split].append(result)

    jobs = plan_jobs(plan, seed, {s: [sp.id for sp in speakers.targets[s]] for s in SPLITS},
                     {s: {v: 60 * voices[v]["minutes"] for v in real_speakers[s]} for s in SPLITS},
                     noise_pool, {s: len(rirs[s]) for s in SPLITS})
    context = RenderContext(out, cache, banks, noise_pool, babble, rirs,
                            {sp.id: sp for s in SPLITS for sp in speakers.targets[s]})
    rows = [row for rendered in run_jobs(render_file, jobs, context, workers=workers,
                                         progress=progress, desc=f"corpus {size}")
            for row in rendered]

    record = BuildRecord(size, seed, plan, speech_pkgs, noise_pkgs, speakers,
                         {s: [voices[v] for v in real_speakers[s]] for s in SPLITS},
                         noise_pool, rirs, missing)
    write_manifests(out, rows)
    link_real_test(out, rows)
    made = None
    if fullband:              # before the summary: its time is the build's
        from ..fullband import build_fullband   # here: fullband uses corpus.seeds

        made = build_fullband(out, speech_pkgs, real_speakers, noise_pool, seed, progress)
    summary = summarise(record, rows, time.time() - t0)
    if made is not None:
        summary["fullband"] = made
    write_summary(out, summary)
    return summary


def link_real_test(out: Path, rows: Sequence[Row]) -> int:
    """`test_real/{clean,noisy}`: the test pairs with real (not TTS) speech, as hard links.

    A folder pair that `sepssl evaluate --ref ... --est ...` can score as it is; hard links
    (copies where the file system has none) cost no space.

    Args:
        out: the corpus folder.
        rows: every file of the corpus.

    Returns:
        The number of pairs linked.
    """
    real = {r.id for r in rows if r.split == "test" and r.kind == "noisy"
            and r.speech_source in realspeech.PACKAGES}
    for r in rows:
        if r.id in real and r.split == "test":
            dst = out / "test_real" / r.kind / Path(r.path).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(out / r.path, dst)
            except OSError:
                shutil.copyfile(out / r.path, dst)
    return len(real)


def prepare_out(out: Path) -> None:
    """Make `out` an empty folder, removing an earlier corpus there.

    Args:
        out: the corpus folder.

    Raises:
        DataError: `out` is a file, or a non-empty folder that holds no corpus.
    """
    if out.exists():
        if not out.is_dir():
            raise DataError(f"{out}: exists and is not a folder; choose another output folder")
        if any(out.iterdir()):
            if not ((out / "corpus.json").exists() or (out / "manifests").exists()):
                raise DataError(f"{out}: folder is not empty and holds no corpus; "
                                f"choose an empty or new folder")
            for sub in _CORPUS_ENTRIES:
                p = out / sub
                shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def fetch_sources(plan: Plan, cache: Path
                  ) -> tuple[list[debian.Package], list[debian.Package], list[dict]]:
    """The real-speech and real-noise packages at hand, and those that are not.

    Args:
        plan: whether the size may download.
        cache: the download / decode cache.

    Returns:
        The speech packages (in `realspeech.PACKAGES` order) and noise packages (in
        `NOISE_PACKAGES` order) that are cached or, when the plan allows, downloaded; and one
        record (package, kind, reason) per source that could not be had.
    """
    missing: list[dict] = []

    def fetch(names, kind):
        pkgs = []
        for n in names:
            try:
                pkg = debian.fetch(n, cache, download=plan.download)
            except DataError as e:
                if n.startswith(debian.RESERVED_PREFIXES):
                    raise
                missing.append({"package": n, "kind": kind, "reason": str(e)})
                continue
            if pkg is None:
                missing.append({"package": n, "kind": kind,
                                "reason": f"not in the cache {cache / 'debs'} (this size does "
                                          f"not download)"})
            else:
                pkgs.append(pkg)
        return pkgs

    return (fetch(plan.speech_packages or realspeech.PACKAGES, "speech"),
            fetch(plan.noise_packages or NOISE_PACKAGES, "noise"), missing)
