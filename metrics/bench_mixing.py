"""On-device mixing's share of a training step, for the default model's recipe
(`recipes/noisy_target/conf.yaml`: noisy_target task, masker n_fft 512 / hop 128 / hidden 192 /
2 layers, batch 16 × 3 s at 16 kHz).

Why: sepssl builds every training example inside the step (`task.make_batch`: SNR sampling,
mixing, peak limiting, gain) instead of in the data loader, so the data loader only reads
clips. That is only free if mixing is a small part of the step; the target is under 5 %.

Each step is what `sepssl.train.TaskModule.training_step` does plus the optimiser:
`task.make_batch(raw)`, `Enhancer.separate`, `task.loss`, backward, gradient clipping at the
recipe's `grad_clip`, Adam step; the module and optimiser are built by `TaskModule` itself.
Timestamps inside every step split it into its parts (so mixing and the whole step are measured
in the same steps, interleaved by construction); the raw batch is random tensors
`{"speech": (16, 48000), "noise": (16, 48000)}`. Lightning's own bookkeeping and data loading
are not in the step here, so the share in a real run is, if anything, smaller.

    python metrics/bench_mixing.py [--steps 20] [--warmup 3] [--device cuda]

On a GPU the step runs in float32 like on the CPU (not the trainer's mixed precision) and every
timestamp follows a synchronisation, so each part's time covers its kernels.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from sepssl.config import load_config
from sepssl.train import TaskModule
from benchlib import command, machine, shared_note, sync, where  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("make_batch", "forward + loss", "backward", "clip + Adam step")


def step(module: TaskModule, opt: torch.optim.Optimizer, raw: dict, clip: float | None,
         device="cpu") -> list[float]:
    """One training step; returns the seconds of each part in PARTS."""
    def now():
        sync(device)
        return time.perf_counter()

    t = [now()]
    batch = module.task.make_batch(raw)
    t.append(now())
    loss, _ = module.task.training_loss(module.enhancer, batch, 0)
    t.append(now())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    t.append(now())
    if clip:
        torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
    opt.step()
    t.append(now())
    if not torch.isfinite(loss):
        raise SystemExit(f"non-finite loss {float(loss)}")
    return [b - a for a, b in zip(t, t[1:])]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=ROOT / "recipes" / "noisy_target" / "conf.yaml")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1: the machine is shared; see metrics/README.md)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (same code, same sizes)")
    p.add_argument("--quick", action="store_true", help="batch 2 × 0.5 s, 2 steps (for tests)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    started = machine(device=a.device)  # before timing: the load average at the start
    cfg = load_config(a.config, ["data.batch_size=2", "data.segment_seconds=0.5"] if a.quick else [])
    if a.quick:
        a.steps, a.warmup = 2, 1
    batch, length = cfg.data.batch_size, int(cfg.data.segment_seconds * cfg.sample_rate)
    torch.manual_seed(0)
    module = TaskModule(cfg).to(a.device).train()
    opt = module.configure_optimizers()["optimizer"]
    clip = cfg.optim.grad_clip
    parts = []
    for i in range(a.warmup + a.steps):
        raw = {"speech": 0.1 * torch.randn(batch, length, device=a.device),
               "noise": 0.1 * torch.randn(batch, length, device=a.device)}
        seconds = step(module, opt, raw, clip, a.device)
        if i >= a.warmup:
            parts.append(seconds)

    med = {name: statistics.median(s[k] for s in parts) for k, name in enumerate(PARTS)}
    totals = [sum(s) for s in parts]
    shares = [s[0] / sum(s) for s in parts]
    result = {"make_batch_s": med["make_batch"], "step_s": statistics.median(totals),
              "share_percent": 100 * med["make_batch"] / statistics.median(totals),
              "share_percent_median_of_steps": 100 * statistics.median(shares),
              "share_percent_max": 100 * max(shares),
              "parts_s": med, "target_percent": 5.0}
    result["met"] = result["share_percent"] < result["target_percent"]
    meta = {"command": command(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            **started, "config": os.path.relpath(a.config, ROOT), "task": cfg.dump()["task"],
            "model": cfg.dump()["model"],
            "batch": batch, "samples": length, "steps": a.steps, "warmup": a.warmup,
            "load_avg_1min_end": round(os.getloadavg()[0], 2)}

    table = ["| part of the step | median (ms) | share of the step |", "|---|---:|---:|"]
    table += [f"| {name} | {1000 * med[name]:.1f} | {100 * med[name] / result['step_s']:.1f} % |"
              for name in PARTS]
    table.append(f"| **whole step** | {1000 * result['step_s']:.1f} | 100 % |")
    md = (f"# On-device mixing's share of a training step (noisy_target recipe)\n\n"
          f"Command: `{meta['command']}`  \nDate: {meta['date']}  \n"
          f"Machine: nproc {meta['nproc']}, {where(meta)}, torch {meta['torch']}, "
          f"torch threads: {meta['torch_threads']}; 1-min load average {meta['load_avg_1min']} "
          f"at start, "
          f"{meta['load_avg_1min_end']} at the end{shared_note(meta)}\n\n"
          f"`{meta['config']}`: task {cfg.task.name}, model {cfg.dump()['model']}, batch {batch} × "
          f"{length} samples, random raw batches; medians over {a.steps} steps after {a.warmup} "
          f"warm-up. **Mixing (`task.make_batch`) takes {result['share_percent']:.2f} % of a step** "
          f"(target < 5 %; median of the per-step shares "
          f"{result['share_percent_median_of_steps']:.2f} %,"
          f" largest {result['share_percent_max']:.2f} %).\n\n" + "\n".join(table) + "\n")
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "mixing.json").write_text(json.dumps(
        {"meta": meta, "result": result, "all_steps_s": [dict(zip(PARTS, s)) for s in parts]},
        indent=2))
    (a.out / "mixing.md").write_text(md)
    print("\n".join(table))
    print(f"make_batch share: {result['share_percent']:.2f} %")


if __name__ == "__main__":
    main()
