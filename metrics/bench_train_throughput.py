"""Training throughput of the default recipe's model: seconds of audio per second of training.

    python metrics/bench_train_throughput.py --device cuda --out metrics/gpu
    python metrics/bench_train_throughput.py --quick            # tiny sizes on the CPU (a check)
    python metrics/bench_train_throughput.py --device cuda --batches 256 --precisions bf16 \
        --compile reduce-overhead --out metrics/gpu/compiled     # `trainer.compile`'s gain

Each step is the trainer's step without Lightning's bookkeeping: a batch of random crops drawn
from a device-resident set (`sepssl.data.resident`, the path `data.resident=true` trains on),
`task.make_batch` (the task's mixing, on the device), `Enhancer.separate`, `task.loss`, backward,
gradient clipping, Adam (fused on a GPU, as `sepssl train` makes it). Batch sizes and precisions
(float32; bf16 autocast, the trainer's `bf16-mixed`) are interleaved round by round; medians.
The fastest setting is then profiled (torch.profiler), and the kernels that take the most time
are listed, so the table says where the time goes. With `--compile MODE` the network is compiled
as `trainer.compile=MODE` compiles it; the first steps of each setting (compiling, recording
CUDA graphs) are warm-up, outside the timing, and the compile time is written beside it.

Written to OUT/train_throughput.json (`audio_seconds_per_second` per setting, the device's name)
and OUT/train_throughput.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import command, machine, sync, where  # noqa: E402

from sepssl.config import load_config  # noqa: E402
from sepssl.train import TaskModule  # noqa: E402

ROOT = HERE.parent


def resident_sources(device: str, rate: int, seconds: float, seed: int = 0) -> dict:
    """Random 'speech' and 'noise' sets (int16, like `ResidentSource`) of `seconds` each."""
    g = torch.Generator().manual_seed(seed)
    n = int(seconds * rate)
    return {k: (3000 * torch.randn(n, generator=g)).clamp(-32768, 32767).to(torch.int16).to(device)
            for k in ("speech", "noise")}


def crops(sets: dict, batch: int, length: int, gen: torch.Generator) -> dict:
    """`batch` random crops of `length` from each set, as float, gathered on the device."""
    out = {}
    for k, pcm in sets.items():
        start = torch.randint(0, pcm.numel() - length, (batch, 1), generator=gen, device=pcm.device)
        idx = start + torch.arange(length, device=pcm.device)
        out[k] = pcm[idx].float() / 32768.0
    return out


def make_step(module: TaskModule, opt, clip: float | None, bf16: bool, device: str):
    def step(raw: dict) -> torch.Tensor:
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=bf16):
            batch = module.task.make_batch(raw)
            loss, _ = module.task.training_loss(module.enhancer, batch, 0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        opt.step()
        return loss
    return step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=ROOT / "recipes" / "noisy_target" / "conf.yaml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config overrides (e.g. model.hidden=256)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batches", default=None, help="default 16,64,256,512 (--quick: 2,4)")
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--steps", type=int, default=10, help="timed steps per setting and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--compile", default="off",
                   choices=["off", "default", "reduce-overhead", "max-autotune"],
                   help="compile the network as trainer.compile does")
    p.add_argument("--quick", action="store_true", help="0.5 s crops, 2 steps, 1 round")
    p.add_argument("--out", type=Path, default=HERE)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    started = machine(device=a.device)
    overrides = list(a.set) + (["data.segment_seconds=0.5"] if a.quick else [])
    cfg = load_config(a.config, overrides)
    batches = [int(b) for b in (a.batches or ("2,4" if a.quick else "16,64,256,512")).split(",")]
    precisions = a.precisions.split(",")
    steps, rounds = (2, 1) if a.quick else (a.steps, a.rounds)
    length = int(cfg.data.segment_seconds * cfg.sample_rate)
    torch.manual_seed(0)
    module = TaskModule(cfg).to(a.device).train()
    opt = module.configure_optimizers()["optimizer"]
    if a.compile != "off":
        module.enhancer.net.compile(mode=a.compile)
    warmup = 1 if a.compile == "off" else 3        # CUDA graphs are recorded on a later call
    compile_s: dict[str, float] = {}
    sets = resident_sources(a.device, cfg.sample_rate, 60 if a.quick else 600)
    gen = torch.Generator(a.device).manual_seed(0)
    settings = [(b, prec) for b in batches for prec in precisions]
    times: dict[str, list[float]] = {f"{b}/{prec}": [] for b, prec in settings}
    for _ in range(rounds):
        for b, prec in settings:
            step = make_step(module, opt, cfg.optim.grad_clip, prec == "bf16", a.device)
            t0 = time.perf_counter()
            for _ in range(warmup):                         # cuDNN plans, allocator, compiling
                step(crops(sets, b, length, gen))
            sync(a.device)
            compile_s.setdefault(f"{b}/{prec}", time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(steps):
                loss = step(crops(sets, b, length, gen))
            sync(a.device)
            if not torch.isfinite(loss):
                raise SystemExit(f"non-finite loss at batch {b} {prec}")
            times[f"{b}/{prec}"].append((time.perf_counter() - t0) / steps)
    rows = {}
    for b, prec in settings:
        sec = statistics.median(times[f"{b}/{prec}"])
        rows[f"{b}/{prec}"] = {"batch": b, "precision": prec, "compile": a.compile, "step_s": sec,
                               "first_steps_s": compile_s[f"{b}/{prec}"],
                               "audio_seconds_per_second": b * length / cfg.sample_rate / sec}
    best = max(rows.values(), key=lambda r: r["audio_seconds_per_second"])
    profile = profiled(module, opt, cfg, sets, best, length, gen, a.device)
    meta = {"command": command(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            **started, "model": cfg.dump()["model"], "task": cfg.task.name,
            "segment_seconds": cfg.data.segment_seconds, "steps": steps, "rounds": rounds,
            "device_name": (torch.cuda.get_device_name(a.device) if a.device.startswith("cuda")
                            else "cpu")}
    result = {"meta": meta, "settings": rows, "best": best, "profile_top": profile}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "train_throughput.json").write_text(json.dumps(result, indent=2))
    md = [f"# Training throughput: {cfg.task.name}, model {meta['model']}", "",
          f"Command: `{meta['command']}`  ", f"Date: {meta['date']}  ",
          f"Machine: {where(meta)}, nproc {meta['nproc']}, torch {meta['torch']}; "
          f"{cfg.data.segment_seconds:g} s crops from a device-resident set; medians of {rounds} "
          f"interleaved rounds of {steps} steps; network compiled: {a.compile}.", "",
          "| batch | precision | step (ms) | seconds of audio per second | first steps (s) |",
          "|---:|---|---:|---:|---:|"]
    md += [f"| {r['batch']} | {r['precision']} | {1000 * r['step_s']:.1f} | "
           f"{r['audio_seconds_per_second']:,.0f} | {r['first_steps_s']:.1f} |"
           for r in rows.values()]
    md += ["", f"Where the time goes at batch {best['batch']} {best['precision']} "
           f"(torch.profiler, {len(profile)} largest by device time):", "",
           "| kernel / op | time (ms per step) | share |", "|---|---:|---:|"]
    md += [f"| `{r['name'][:70]}` | {r['ms_per_step']:.2f} | {r['share']:.1%} |" for r in profile]
    (a.out / "train_throughput.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


def profiled(module, opt, cfg, sets, best, length, gen, device, steps: int = 3) -> list[dict]:
    """The ops that take the most (device, else CPU) time in `steps` steps of the best setting."""
    from torch.profiler import ProfilerActivity, profile

    step = make_step(module, opt, cfg.optim.grad_clip, best["precision"] == "bf16", device)
    cuda = device.startswith("cuda")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step(crops(sets, best["batch"], length, gen))
        sync(device)
    key = "self_device_time_total" if cuda else "self_cpu_time_total"
    events = [e for e in prof.key_averages() if getattr(e, key, 0) > 0]
    total = sum(getattr(e, key) for e in events) or 1
    top = sorted(events, key=lambda e: getattr(e, key), reverse=True)[:12]
    return [{"name": e.key, "ms_per_step": getattr(e, key) / 1000 / steps,
             "share": getattr(e, key) / total} for e in top]


if __name__ == "__main__":
    main()
