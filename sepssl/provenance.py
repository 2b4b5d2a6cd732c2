"""Where a result came from: `sepssl enhance` leaves a record beside its outputs, and
`sepssl evaluate` shows it (and its own) at the top of the report.

Why: a score without the model and settings that made it cannot be checked or repeated. The
record names the sepssl version, the model file (with its SHA-256, so a retrained file with
the same name is told apart), how it was trained (from its card), the attenuation limit in
effect, the device, the command and the date.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import shlex
import sys
from pathlib import Path

from .files import write_text

#: The record `sepssl enhance` writes into its output folder.
ENHANCE_RECORD = "sepssl_enhance.json"


def now() -> str:
    """The local date and time, to the second, ISO 8601 with its UTC offset."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


#: The `sepssl` command line being run, set by `sepssl.cli.main` (None: use sys.argv).
_COMMAND: list[str] | None = None


def set_command(argv: list[str]) -> None:
    """Record the command line that is running (the CLI calls this with its arguments)."""
    global _COMMAND
    _COMMAND = list(argv)


def command_line() -> str:
    """The running command, shell-quoted: the `sepssl` command as given to the CLI, else
    this process's own command line (a script calling the library)."""
    return shlex.join(_COMMAND if _COMMAND is not None else sys.argv)


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def enhance_record(model, model_arg: str, atten_lim_db, device: str) -> dict:
    """What `sepssl enhance` records beside its outputs.

    Args:
        model: the loaded `Enhancer`.
        model_arg: what the user named (`--model`: a shipped model's name or a path).
        atten_lim_db: the `--atten-lim-db` asked for ("model", None or dB).
        device: the device it ran on.

    Returns:
        A JSON-ready dict.
    """
    from . import __version__
    from .models.enhancer import model_file

    path = model_file(model_arg)
    limit = model.atten_lim_db if atten_lim_db == "model" else atten_lim_db
    card = model.card
    return {
        "sepssl": __version__,
        "model": str(model_arg),
        "model_file": str(path),
        "model_sha256": file_sha256(path) if path.is_file() else None,
        "trained_with": card.get("trained_with"),
        "steps": card.get("steps"),
        "selected_by": card.get("selected_by"),
        "atten_lim_db": limit,
        "sample_rate": model.sample_rate,
        "device": str(device),
        "command": command_line(),
        "date": now(),
    }


def write_enhance_record(out_dir: str | os.PathLike, record: dict) -> Path:
    """Write `record` as `OUT/sepssl_enhance.json` (atomically)."""
    return write_text(Path(out_dir) / ENHANCE_RECORD, json.dumps(record, indent=2) + "\n")


def read_enhance_record(est: str | os.PathLike) -> dict | None:
    """The enhance record in a folder of estimates (or beside a single estimate), if any and
    readable; None otherwise."""
    folder = Path(est) if Path(est).is_dir() else Path(est).parent
    try:
        data = json.loads((folder / ENHANCE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
