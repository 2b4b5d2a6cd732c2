"""THE BACKBONE: one module per front-end self-supervised task, all with the `Task` face."""
from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .base import Batch, Task
from .noisy_target import NoisyTarget
from .supervised import Supervised

TASKS: dict[str, type[Task]] = {t.name: t for t in (Supervised, NoisyTarget)}


def build_task(name: str, **options: Any) -> Task:
    if name not in TASKS:
        raise ConfigError(f"task.name: unknown task {name!r}; choose one of {sorted(TASKS)}")
    return TASKS[name](**options)


__all__ = ["Batch", "Task", "TASKS", "build_task"]
