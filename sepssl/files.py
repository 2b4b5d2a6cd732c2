"""Files sepssl writes and reads that are not audio: atomic writes and weights-only files.

One helper for every atomic write (a temporary file beside the target, renamed over it once
complete, removed on any error), so a crash or Ctrl-C never leaves a half-written file under
the real name. The temporary name is `.NAME.<random>.part` in the target's folder (the rename
stays on one file system); the final file gets the permissions `open()` would give it
(0666 minus the umask), not `mkstemp`'s 0600.

Weights-only files (models, encoders, the tasks' helper networks) are dicts of tensors and
plain values with a `format` tag, written with `torch.save` and read with
`torch.load(weights_only=True)`: a file someone sends a user can never run code.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .errors import ModelError

PART_SUFFIX = ".part"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed to `path`, else removed.

    Args:
        path: the final file; its folder is created.
        suffix: added before `.part` (e.g. ".wav"), for writers that choose a format by name.
    Yields:
        The temporary path (in the same folder as `path`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + PART_SUFFIX,
                               dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a UTF-8 text file atomically, line ends as given; returns its path."""
    with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return Path(path)


def save_weights_file(data: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write a weights-only file (`torch.save`, atomically); returns its path."""
    import torch

    with atomic_write(path) as tmp:
        torch.save(data, tmp)
    return Path(path)


def first_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's first line (its type if it has no message; a bytes message decoded, as
    pesq raises them), cut to `limit` characters: for one-line user errors."""
    arg = exc.args[0] if len(exc.args) == 1 else (str(exc) or type(exc).__name__)
    if isinstance(arg, (bytes, bytearray)):
        arg = arg.decode("utf-8", errors="replace")
    text = str(arg).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]


def load_weights_file(path: str | os.PathLike, what: str, hint: str = "") -> Any:
    """The content of a weights-only file, loaded onto the CPU with `weights_only=True`.

    Args:
        path: the file.
        what: what it should hold, for messages ("model", "encoder", "SNR predictor").
        hint: appended to the not-found message (e.g. how to make one).
    Returns:
        Whatever the file holds (the caller checks its `format` tag).
    Raises:
        ModelError: the file is missing or not a weights-only torch file.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: {what} file not found{hint}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = ("it holds Python objects other than tensors and plain values, which sepssl "
                  "does not load" if "weights_only" in str(exc) else first_line(exc))
        raise ModelError(f"{path}: not a loadable {what} file ({reason})") from None


def check_format(data: Any, path: str | os.PathLike, fmt: str, what: str) -> dict[str, Any]:
    """`data` if it is a dict tagged `format: fmt`, else a ModelError naming the file."""
    if not isinstance(data, dict) or data.get("format") != fmt:
        found = data.get("format") if isinstance(data, dict) else None
        raise ModelError(f"{path}: not a sepssl {what} file (expected format {fmt}"
                         f"{', found ' + repr(found) if found else ''})")
    return data
