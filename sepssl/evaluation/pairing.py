"""Pair reference, estimate and noisy-input files by their path relative to each folder.

Scoring tools either take lists of file pairs (asteroid's `get_metrics`, `pesq`, `pystoi`
score one pair of arrays) or expect Kaldi-style `wav.scp` lists (ESPnet); none pairs
folders. Pairing by relative path without the extension (``a/b.wav`` with ``a/b.flac``) is
what an enhancer writing a mirror of its input folder produces, and files left without a
partner are reported rather than silently dropped.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .. import audio
from ..errors import DataError


class Pair(NamedTuple):
    """One paired file; the paths are str so a pair pickles cheaply to a worker."""
    file: str             #: the reference's path relative to its folder (shown in reports)
    reference: str
    estimate: str
    input: str | None     #: the noisy input, or None (none given, or none for this file)


def pair_files(ref_dir, est_dir, noisy_dir=None) -> tuple[list[Pair], list[dict]]:
    """Pair the files of the reference, estimate and (optional) noisy-input sides.

    Paths are matched without their extension (``a/b.wav`` pairs with ``a/b.flac``); when one
    folder holds both ``a.wav`` and ``a.flac`` each is matched by its full name instead. When
    `ref_dir` and `est_dir` are both single files they pair whatever their names (and so does
    a single-file `noisy_dir`).

    Args:
        ref_dir: folder (searched recursively for audio) or single file of references.
        est_dir: folder or single file of estimates.
        noisy_dir: folder or single file of noisy inputs, or None.

    Returns:
        `(pairs, unpaired)`: the pairs sorted by key, and one ``{"file": relative path,
        "missing": "estimate" | "reference" | "input" | "reference and estimate"}`` per file
        without its partner. A pair whose input is missing is still scored (``input`` None)
        and also listed as unpaired with ``missing: "input"``.

    Raises:
        DataError: a side does not exist, or no estimate pairs with a reference.
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
        pairs.append(Pair(r[0], str(r[1]), str(e[1]), str(n[1]) if n else None))
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
