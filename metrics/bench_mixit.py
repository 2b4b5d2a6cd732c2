"""Exact MixIT: sepssl's Gram-matrix form against asteroid's `MixITLossWrapper` (generalized,
one time-domain loss per assignment in a Python loop), forward + backward, same inputs.

    python metrics/bench_mixit.py [--threads 1] [--repeats 5] [--device cuda] [--quick --out DIR]

Times are medians of interleaved repeats in this process (on a GPU, after synchronising). Extra
memory on the CPU is measured in a fresh child process per method: the peak resident set (VmHWM,
reset through /proc/self/clear_refs) during one forward + backward, minus the resident set just
before it; on a GPU it is the peak of torch's allocator over the allocated memory before it.
M = 16 runs only for sepssl: asteroid would evaluate 65,536 time-domain losses. The efficient (least-squares) form
is timed beside it, with how often it picks the exact optimum on outputs that are noisy copies
of the true sources.
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sepssl import losses  # noqa: E402
from sepssl.dsp import mixing  # noqa: E402
from benchlib import command, machine, sync, where  # noqa: E402


def soft_cap_snr_loss(est, ref):
    return -losses.snr(est, ref, soft_cap_db=30.0).mean(-1)


def inputs(b, m, t, seed=0, noise=1.0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    sources = torch.randn(b, m, t, generator=g)
    mixtures = mixing.remix(sources, torch.rand(b, m, generator=g) < 0.5)
    return (sources + noise * torch.randn(b, m, t, generator=g)).to(device), mixtures.to(device)


def run_sepssl(est, mixtures, method="exact"):
    est = est.detach().requires_grad_(True)
    value, _ = losses.mixit_loss(est, mixtures, loss="snr", method=method)
    value.mean().backward()
    return float(value.mean().detach())


def run_asteroid(est, mixtures):
    from asteroid.losses import MixITLossWrapper

    est = est.detach().requires_grad_(True)
    value = MixITLossWrapper(soft_cap_snr_loss, generalized=True)(est, mixtures)
    value.backward()
    return float(value.detach())


def timed(device, fn, *args):
    sync(device)
    start = time.perf_counter()
    value = fn(*args)  # float(loss) waits for the forward; sync for the backward
    sync(device)
    return time.perf_counter() - start, value


def _kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(field)


def child_memory(which, b, m, t, threads):
    """Run in a fresh process: extra peak memory (MiB) of one forward + backward."""
    torch.set_num_threads(threads)
    est, mixtures = inputs(b, m, t)
    run_sepssl(*inputs(1, 2, 64)) if which == "sepssl" else run_asteroid(*inputs(1, 2, 64))
    before = _kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    run_sepssl(est, mixtures) if which == "sepssl" else run_asteroid(est, mixtures)
    print(json.dumps({"extra_mib": (_kib("VmHWM") - before) / 1024}))


def cuda_memory(which, b, m, t, device):
    """Extra peak GPU memory (MiB) of one forward + backward, measured in this process."""
    est, mixtures = inputs(b, m, t, device=device)
    sync(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    run_sepssl(est, mixtures) if which == "sepssl" else run_asteroid(est, mixtures)
    sync(device)
    return (torch.cuda.max_memory_allocated(device) - before) / 2**20


def memory(which, b, m, t, threads, device="cpu"):
    if torch.device(device).type == "cuda":
        return cuda_memory(which, b, m, t, device)
    out = subprocess.run([sys.executable, __file__, "--child", which, str(b), str(m), str(t),
                          str(threads)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["extra_mib"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (same code, same sizes)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check the script runs")
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        which, *sizes = args.child
        return child_memory(which, *map(int, sizes))
    torch.set_num_threads(args.threads)
    b, t, m, big_m = (2, 2000, 4, 8) if args.quick else (8, 32000, 8, 16)
    repeats = 2 if args.quick else args.repeats
    dev = args.device
    started = machine(device=dev)  # before timing: the load average at the start

    est, mixtures = inputs(b, m, t, device=dev)
    run_sepssl(est, mixtures), run_asteroid(est[:1, :, :100], mixtures[:1, :, :100])  # warm up
    ours, theirs, values = [], [], []
    for _ in range(repeats):  # interleaved
        dt, v_ours = timed(dev, run_sepssl, est, mixtures)
        ours.append(dt)
        dt, v_theirs = timed(dev, run_asteroid, est, mixtures)
        theirs.append(dt)
        values.append(abs(v_ours - v_theirs) / abs(v_theirs))
    mem_ours = memory("sepssl", b, m, t, args.threads, dev)
    mem_theirs = memory("asteroid", b, m, t, args.threads, dev)
    big = inputs(b, big_m, t, device=dev)
    timed(dev, run_sepssl, *big), timed(dev, run_sepssl, *big, "efficient")  # warm up
    big_exact = [timed(dev, run_sepssl, *big)[0] for _ in range(repeats)]
    big_eff = [timed(dev, run_sepssl, *big, "efficient")[0] for _ in range(repeats)]
    est_q, mix_q = inputs(256 if not args.quick else 16, m, 4000, seed=7, noise=0.5, device=dev)
    _, a_exact = losses.mixit_loss(est_q, mix_q, method="exact")
    _, a_eff = losses.mixit_loss(est_q, mix_q, method="efficient")
    agree = float((a_exact == a_eff).all(1).float().mean())

    med = statistics.median
    result = {
        "date": datetime.date.today().isoformat(), "command": command(), "machine": started,
        "batch": b, "samples": t, "outputs": m, "loss": "snr, soft cap 30 dB",
        "sepssl_s": med(ours), "asteroid_s": med(theirs), "speedup": med(theirs) / med(ours),
        "max_rel_value_diff": max(values),
        "sepssl_extra_mib": mem_ours, "asteroid_extra_mib": mem_theirs,
        "memory_ratio": mem_theirs / max(mem_ours, 1e-3),
        f"sepssl_exact_m{big_m}_s": med(big_exact), f"sepssl_efficient_m{big_m}_s": med(big_eff),
        "efficient_agrees_with_exact": agree, "repeats": repeats,
    }
    rows = [
        ("exact MixIT, M=%d, fwd+bwd (median s)" % m, f"{med(ours):.4f}", f"{med(theirs):.3f}",
         f"{result['speedup']:.0f}×"),
        ("extra peak memory (MiB)", f"{mem_ours:.1f}", f"{mem_theirs:.0f}",
         f"1/{result['memory_ratio']:.0f}"),
        ("loss value, max relative difference", f"{max(values):.1e}", "", ""),
        (f"exact MixIT, M={big_m}, fwd+bwd (median s)", f"{med(big_exact):.3f}", "cannot run", ""),
        (f"efficient MixIT, M={big_m}, fwd+bwd (median s)", f"{med(big_eff):.4f}", "", ""),
        (f"efficient picks the exact optimum (M={m})", f"{agree:.1%}", "", ""),
    ]
    memory_kind = "GPU allocator" if result["machine"].get("gpu") else "resident set"
    md = [f"# Exact MixIT: sepssl vs asteroid\n",
          f"`{result['command']}` — {result['date']}, {where(result['machine'])}, nproc "
          f"{result['machine']['nproc']}, {args.threads} torch thread(s), torch {torch.__version__}, "
          f"1-min load average {result['machine']['load_avg_1min']} at the start; batch {b} × {t} samples, "
          f"median of {repeats} interleaved repeats; extra memory: {memory_kind} peak.\n",
          "| | sepssl | asteroid `MixITLossWrapper` | ratio |", "|---|---|---|---|"]
    md += [f"| {' | '.join(r)} |" for r in rows]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mixit.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "mixit.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
