"""THE BACKBONE: one module per front-end self-supervised task, all with the `Task` interface.

Adding a method = adding one module here whose `Task` subclass registers itself with
`@TASKS.register(name, Options)`; the modules of this package are imported here, so no list
needs editing.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from .base import TASKS, Batch, Task

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name != "base":
        importlib.import_module(f"{__name__}.{_mod.name}")


def build_task(name_or_options: Any, **options: Any) -> Task:
    """A task from its validated options, or from a name and keyword options (validated).

    Args:
        name_or_options: a task name ("mixit") or the `task:` section's options object.
        **options: the options, with a name.
    Returns:
        The `Task`.
    Raises:
        ConfigError: unknown name, option, type or value, naming the key.
    """
    if isinstance(name_or_options, str):
        return TASKS.get(name_or_options)(**options)
    return TASKS.get(name_or_options.name)(name_or_options)


__all__ = ["Batch", "Task", "TASKS", "build_task"]
