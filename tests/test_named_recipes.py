"""Recipes by name (`sepssl train noisy_target`): from any folder, from a pip-installed wheel,
`--list` and `--print-config`, and clear errors for a wrong name or kind."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sepssl.cli import main
from sepssl.errors import ConfigError
from sepssl.named_recipes import recipes, resolve

ROOT = Path(__file__).resolve().parents[1]


def test_every_recipe_file_has_a_name_and_kind():
    found = {r.name: r for r in recipes()}
    on_disk = sorted(ROOT.glob("recipes/*/*.yaml"))
    assert len(found) == len(on_disk) > 10
    assert found["noisy_target"].kind == "train" and found["cpc"].kind == "pretrain"
    assert found["mixit/conf_detector"].path.name == "conf_detector.yaml"
    assert all(r.about for r in found.values())


def test_names_resolve_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve("noisy_target", "train").samefile(ROOT / "recipes/noisy_target/conf.yaml")
    assert resolve("noisy_target/conf_wide", "train").name == "conf_wide.yaml"
    assert resolve("cpc", "pretrain").samefile(ROOT / "recipes/cpc/conf.yaml")
    (tmp_path / "mine.yaml").write_text("name: mine\n")
    assert resolve("mine.yaml", "train") == Path("mine.yaml")     # a file wins
    with pytest.raises(ConfigError, match="is a pretrain recipe; run `sepssl pretrain cpc`"):
        resolve("cpc", "train")
    with pytest.raises(ConfigError, match="no recipe of that name"):
        resolve("nope", "train")


def test_list_and_print_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--list"]) == 0
    out = capsys.readouterr().out
    assert "noisy_target " in out and "supervised " in out and "\ncpc " not in out
    assert main(["pretrain", "--list"]) == 0
    assert "cpc " in capsys.readouterr().out
    assert main(["train", "supervised", "--print-config", "--set", "trainer.max_steps=7"]) == 0
    cfg = yaml.safe_load(capsys.readouterr().out)
    assert cfg["task"]["name"] == "supervised" and cfg["trainer"]["max_steps"] == 7
    assert cfg["optim"]["schedule"] == "constant"           # defaults are shown too
    assert not (tmp_path / "runs").exists()                  # nothing trained
    assert main(["train"]) == 2
    assert "give a recipe" in capsys.readouterr().err


@pytest.mark.slow
def test_names_resolve_in_an_installed_wheel(tmp_path):
    src = tmp_path / "src"                      # a copy: the build writes build/ beside it
    for part in ("sepssl", "recipes"):
        shutil.copytree(ROOT / part, src / part, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, src / part)
    wheel = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(wheel)], check=True,
                   capture_output=True)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), *map(str, wheel.glob("*.whl"))], check=True, capture_output=True)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import sepssl.named_recipes as n; "
            "p = n.resolve('noisy_target', 'train'); print(p); assert sys.argv[1] in str(p); "
            "print(len(n.recipes()))")
    run = subprocess.run([sys.executable, "-c", code, str(site)], cwd=tmp_path,
                         capture_output=True, text=True, check=True)
    assert int(run.stdout.split()[-1]) == len(list(ROOT.glob("recipes/*/*.yaml")))
