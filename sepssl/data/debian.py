"""Debian packages as data: `apt-get download` + `dpkg -x` into a cache, never installed.

Why: a Debian archive is often reachable where general internet access is not, and several
packages carry real speech (asterisk prompts) and real recorded sounds (game data). Unpacking
without installing needs no root and leaves the system untouched; the cache makes a second
build offline and fast. Hand-written as a thin layer over the `apt-get download` and
`dpkg-deb -x` commands, which do all the work; no Python package is needed for that.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError

#: Packages that must never be used (see shared DATA.md); checked on every fetch.
RESERVED_PREFIXES = (
    "asterisk-core-sounds-en", "asterisk-core-sounds-es", "asterisk-moh-",
    "openttd-opensfx", "pocketsphinx-testdata", "codec2-examples", "linphone-common",
    "alsa-utils", "sound-theme-freedesktop", "asterisk-prompt-es-",
)


@dataclass(frozen=True)
class Package:
    """A Debian package unpacked into the cache."""
    name: str
    version: str
    deb_bytes: int      # size of the downloaded .deb
    root: Path          # folder the .deb was unpacked into

    def describe(self) -> dict:
        """Name, version and .deb size, for the corpus's records."""
        return {"name": self.name, "version": self.version, "deb_bytes": self.deb_bytes}


def check_allowed(name: str) -> None:
    """Refuse packages on the reserved list.

    Args:
        name (str): Debian package name.

    Raises:
        DataError: If `name` starts with one of `RESERVED_PREFIXES`.
    """
    if any(name.startswith(p) for p in RESERVED_PREFIXES):
        raise DataError(f"{name}: is on the reserved list in DATA.md and must never be used")


def cached_deb(name: str, cache_dir: Path) -> Path | None:
    """The newest cached .deb of a package.

    Args:
        name (str): Debian package name.
        cache_dir (Path): The cache folder (the .debs are in its `debs/`).

    Returns:
        Path or None: The .deb with the last name in sort order, or None if none is cached.
    """
    debs = sorted((cache_dir / "debs").glob(f"{name}_*.deb"))
    return debs[-1] if debs else None


def fetch(name: str, cache_dir: str | os.PathLike, download: bool = True) -> Package | None:
    """The unpacked package `name`, downloading it first when needed and allowed.

    Args:
        name (str): Debian package name.
        cache_dir (str or os.PathLike): Cache folder (`debs/` and `unpacked/` inside).
        download (bool, optional): Run `apt-get download` when the .deb is not cached.
            (Default: ``True``)

    Returns:
        Package or None: The unpacked package, or None when it is not cached and
        `download=False`.

    Raises:
        DataError: If the package is reserved, cannot be downloaded, or cannot be unpacked
            (e.g. dpkg-deb is missing).
    """
    check_allowed(name)
    cache_dir = Path(cache_dir).expanduser()
    deb = cached_deb(name, cache_dir)
    if deb is None:
        if not download:
            return None
        deb = _download(name, cache_dir / "debs")
    version = _deb_field(deb, "Version")
    root = cache_dir / "unpacked" / f"{name}_{version}".replace(":", "%3a")
    done = root / ".unpacked"
    if not done.exists():
        if shutil.which("dpkg-deb") is None:
            raise DataError("dpkg-deb not found: sepssl data needs a Debian/Ubuntu system "
                            "(install the dpkg package)")
        tmp = root.with_name(root.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _run(["dpkg-deb", "-x", str(deb), str(tmp)], f"cannot unpack {deb}")
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
        done.touch()
    return Package(name, version, deb.stat().st_size, root)


def _download(name: str, debs: Path) -> Path:
    if shutil.which("apt-get") is None:
        raise DataError(f"{name}: not cached and apt-get not found; copy {name}_*.deb "
                        f"into {debs} or run on a Debian/Ubuntu system")
    debs.mkdir(parents=True, exist_ok=True)
    # Sandbox user root: the cache folder usually is not readable by the _apt user.
    cmd = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", name]
    proc = subprocess.run(cmd, cwd=debs, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise DataError(f"apt-get download {name} failed ({last}); run `apt-get update` "
                        f"(as root) and check the package name")
    deb = cached_deb(name, debs.parent)
    if deb is None:
        raise DataError(f"apt-get download {name} produced no .deb in {debs}")
    return deb


def _deb_field(deb: Path, field: str) -> str:
    if shutil.which("dpkg-deb") is None:
        # Fall back on the file name: name_version_arch.deb (version %3a-escaped).
        return deb.name.split("_")[1].replace("%3a", ":")
    proc = subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True)
    if proc.returncode != 0:
        raise DataError(f"{deb}: not a readable .deb; delete it and build again")
    return proc.stdout.strip()


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise DataError(f"{what}: {proc.stderr.strip()[:200]}")
