"""THE BACKBONE: one module per front-end self-supervised task, all with the `Task` face.

Adding a method = adding one module here whose `Task` subclass sets `name`; modules are found
by name, so no list needs editing.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from ..errors import ConfigError
from .base import Batch, Task


def _discover() -> dict[str, type[Task]]:
    for mod in pkgutil.iter_modules(__path__):
        if mod.name != "base":
            importlib.import_module(f"{__name__}.{mod.name}")
    found: dict[str, type[Task]] = {}
    stack = list(Task.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if "name" in cls.__dict__:
            found[cls.name] = cls
    return dict(sorted(found.items()))


TASKS: dict[str, type[Task]] = _discover()


def build_task(name: str, **options: Any) -> Task:
    if name not in TASKS:
        raise ConfigError(f"task.name: unknown task {name!r}; choose one of {sorted(TASKS)}")
    return TASKS[name](**options)


__all__ = ["Batch", "Task", "TASKS", "build_task"]
