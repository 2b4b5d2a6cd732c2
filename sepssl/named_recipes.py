"""Recipes by name: `sepssl train noisy_target` from any folder, and from a pip install.

The recipe files live in the repository's `recipes/` (each folder: README, configs, scripts);
`sepssl/recipes` links there and the wheel carries the YAML files as package data, so a name
resolves the same in a checkout and in an installed package. A recipe's name is its folder
(`conf.yaml`) or folder/stem for the others (`mixit/conf_detector`). Paths inside a recipe are
relative to the folder you run from (or given with `--set`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from .errors import ConfigError


@dataclass(frozen=True)
class NamedRecipe:
    """A recipe shipped with sepssl."""
    name: str            # "noisy_target", "mixit/conf_detector"
    kind: str            # "train" or "pretrain" (it configures an SSL encoder)
    about: str           # its first comment line
    path: Path


def recipes() -> list[NamedRecipe]:
    """Every shipped recipe, sorted by name."""
    root = Path(str(resources.files("sepssl") / "recipes"))
    found = []
    for path in sorted(root.glob("*/*.yaml")):
        text = path.read_text(encoding="utf-8")
        name = path.parent.name if path.stem == "conf" else f"{path.parent.name}/{path.stem}"
        body = yaml.safe_load(text) or {}
        kind = "pretrain" if isinstance(body, dict) and "encoder" in body else "train"
        found.append(NamedRecipe(name, kind, _first_sentence(text), path))
    return found


def _first_sentence(text: str) -> str:
    """The first sentence of a recipe's opening comment (its command lines left out)."""
    words = []
    for line in text.splitlines():
        if not line.startswith("#") or line.startswith("#  "):
            break
        words.append(line.lstrip("#").strip())
    about = " ".join(words)
    end = about.find(". ")
    return about if end < 0 else about[:end + 1]


def resolve(name_or_path: str, kind: str) -> Path:
    """A recipe file: an existing path as it is, else a shipped recipe of that name.

    Args:
        name_or_path: a YAML path, or a name of `sepssl train --list`.
        kind: "train" or "pretrain" (a name of the other kind is refused, naming the command).

    Raises:
        ConfigError: neither a file nor a recipe of this kind.
    """
    if os.path.exists(name_or_path):
        return Path(name_or_path)
    for r in recipes():
        if r.name == name_or_path.removesuffix(".yaml").removesuffix("/conf"):
            if r.kind != kind:
                raise ConfigError(f"{name_or_path}: is a {r.kind} recipe; run "
                                  f"`sepssl {r.kind} {r.name}`")
            return r.path
    raise ConfigError(f"{name_or_path}: no such file, and no recipe of that name "
                      f"(`sepssl {kind} --list` shows them)")


def listing(kind: str) -> str:
    """The recipes of one kind, a line each: name and what it is."""
    rows = [r for r in recipes() if r.kind == kind]
    width = max((len(r.name) for r in rows), default=0)
    return "\n".join(f"{r.name:<{width}}  {r.about}" for r in rows)
