"""What every benchmark records next to its numbers: the command that made them and the machine."""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def cpu_model() -> str:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine(threads: int | None = None, device: str = "cpu") -> dict:
    """CPU, cores, torch threads (given, or this process's), the GPU when `device` is one,
    and the 1-minute load average."""
    info = {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu_model(), "device": device}
    if threads is None:
        import torch

        info.update(torch_threads=torch.get_num_threads(), torch=torch.__version__)
        if device.startswith("cuda"):
            info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    else:
        info["torch_threads"] = threads
    info["load_avg_1min"] = round(os.getloadavg()[0], 2)
    return info


def command() -> str:
    """The command line that ran this script, relative to the current folder when possible."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(Path.cwd())
    except ValueError:
        pass
    return " ".join(["python", str(script), *sys.argv[1:]])


def where(info: dict) -> str:
    """How a table names the hardware: the GPU when there was one, else the CPU."""
    return f"{info['gpu']} (CUDA)" if info.get("gpu") else info["cpu"]


def shared_note(info: dict) -> str:
    """What follows the load averages: CPU runs say the machine was shared (the GPU one was not)."""
    return "" if info.get("gpu") else " (a shared machine)"


def sync(device) -> None:
    """Wait for queued GPU work, so that a wall-clock time covers it (no-op on the CPU)."""
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
