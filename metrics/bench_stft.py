"""STFT analysis / synthesis: sepssl's `dsp.stft` (torch.stft / torch.istft) against asteroid's
filterbank (`asteroid_filterbanks` Encoder / Decoder over `STFTFB`, a strided Conv1d /
ConvTranspose1d with DFT kernels), at the enhancer's settings (n_fft 512, hop 128, 16 kHz).

Why: every training step and every enhanced second goes through this pair, and sepssl writes
it on torch.stft instead of reusing asteroid's filterbank. This measures what that choice costs
or saves (analysis alone, and analysis + synthesis as in the masker; forward, forward + backward
into the input, and, as when training the masker, backward from the synthesis into the
spectrogram only) and whether each pair gives the signal back: max |synthesis(analysis(x)) − x|
overall, over the first / last 512 samples and in between.

    python metrics/bench_stft.py [--batch 16] [--seconds 4] [--repeats 20] [--device cuda]

Both are timed in this process, interleaved (sepssl, asteroid, then asteroid, sepssl, ...);
the table gives medians in ms and the ratio asteroid / sepssl (above 1: sepssl is faster).
On a GPU each timed call ends with a synchronisation, so it covers the kernels it queued.
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
from asteroid_filterbanks import STFTFB, Decoder, Encoder

from sepssl.dsp.stft import istft, stft
from benchlib import command, machine, shared_note, sync, where  # noqa: E402

N_FFT, HOP, RATE, EDGE = 512, 128, 16000, 512


def make_pairs(batch: int, length: int, device="cpu"):
    """{name: (analysis, synthesis)}, both taking and returning `(batch, time)` tensors."""
    fb = STFTFB(n_filters=N_FFT, kernel_size=N_FFT, stride=HOP, sample_rate=RATE)
    enc, dec = Encoder(fb).to(device), Decoder(fb).to(device)

    def asteroid_synthesis(spec):  # Decoder only trims; zero-pad a short end as asteroid's
        wav = dec(spec, length=length)[:, 0]  # models do (pad_x_to_y)
        return torch.nn.functional.pad(wav, (0, length - wav.shape[-1]))

    return {
        "sepssl": (lambda x: stft(x, N_FFT, HOP), lambda s: istft(s, N_FFT, HOP, length)),
        "asteroid": (lambda x: enc(x.unsqueeze(1)), asteroid_synthesis),
    }


def power(spec: torch.Tensor) -> torch.Tensor:
    """Σ re² + im²: the same elementwise work on a complex spectrogram and on asteroid's
    stacked (re, im) channels, so backward times differ only by the transforms."""
    return (torch.view_as_real(spec) if spec.is_complex() else spec).square().sum()


CASES = {  # name: (synthesis too?, where the gradient starts: None, "input" or "spectrogram")
    "analysis, forward": (False, None),
    "analysis, forward + backward": (False, "input"),
    "analysis + synthesis, forward": (True, None),
    "analysis + synthesis, forward + backward": (True, "input"),
    "analysis + synthesis, backward into the spectrogram (masker training)": (True, "spectrogram"),
}


def case_fn(analysis, synthesis, x: torch.Tensor, full: bool, grad: str | None):
    """One timed call. grad "spectrogram" is what training the masker needs: the input is data,
    the gradient flows from the loss through the synthesis into the masked spectrogram."""
    def run():
        if grad is None:
            with torch.no_grad():
                spec = analysis(x)
                if full:
                    synthesis(spec)
            return
        if grad == "input":
            spec = analysis(x.detach().requires_grad_(True))
        else:
            with torch.no_grad():
                spec = analysis(x)
            spec.requires_grad_(True)
        power(synthesis(spec) if full else spec).backward()
    return run


def reconstruction(analysis, synthesis, x: torch.Tensor) -> dict:
    with torch.no_grad():
        err = (synthesis(analysis(x)) - x).abs()
    return {"max_abs_err": float(err.max()),
            "max_abs_err_first_512": float(err[:, :EDGE].max()),
            "max_abs_err_last_512": float(err[:, -EDGE:].max()),
            "max_abs_err_interior": float(err[:, EDGE:-EDGE].max()),
            "samples_err_over_1e-4": int((err > 1e-4).sum(-1).max())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1: the machine is shared; see metrics/README.md)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (same code, same sizes)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 repeat (for tests)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    a = p.parse_args()
    if a.quick:
        a.batch, a.seconds, a.repeats, a.warmup = 2, 0.5, 1, 0
    torch.set_num_threads(a.threads)
    started = machine(device=a.device)  # before timing: the load average at the start
    length = int(a.seconds * RATE)
    torch.manual_seed(0)
    x = torch.randn(a.batch, length).to(a.device)
    pairs = make_pairs(a.batch, length, a.device)
    runs = {(c, n): case_fn(*pairs[n], x, *CASES[c]) for c in CASES for n in pairs}
    times = {key: [] for key in runs}
    for r in range(a.warmup + a.repeats):
        order = list(pairs) if r % 2 == 0 else list(pairs)[::-1]  # alternate who goes first
        for c in CASES:
            for n in order:
                sync(a.device)
                t0 = time.perf_counter()
                runs[c, n]()
                sync(a.device)
                if r >= a.warmup:
                    times[c, n].append(time.perf_counter() - t0)

    rows = []
    for c in CASES:
        ms = {n: 1000 * statistics.median(times[c, n]) for n in pairs}
        rows.append({"case": c, "sepssl_ms": ms["sepssl"], "asteroid_ms": ms["asteroid"],
                     "ratio_asteroid_over_sepssl": ms["asteroid"] / ms["sepssl"],
                     "all_ms": {n: [round(1000 * t, 2) for t in times[c, n]] for n in pairs}})
    recon = {n: reconstruction(*pairs[n], x) for n in pairs}
    meta = {"command": command(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
            **started, "batch": a.batch, "seconds": a.seconds, "n_fft": N_FFT, "hop": HOP,
            "repeats": a.repeats, "warmup": a.warmup,
            "signal": "white Gaussian noise, unit variance (float32)",
            "asteroid": "Encoder/Decoder(STFTFB(512, 512, stride=128)), default padding 0",
            "load_avg_1min_end": round(os.getloadavg()[0], 2)}

    table = ["| case | sepssl (ms) | asteroid (ms) | asteroid / sepssl |", "|---|---:|---:|---:|"]
    table += [f"| {r['case']} | {r['sepssl_ms']:.1f} | {r['asteroid_ms']:.1f} | "
              f"{r['ratio_asteroid_over_sepssl']:.2f}× |" for r in rows]
    labels = {"max_abs_err": "max abs error, whole signal",
              "max_abs_err_first_512": "max abs error, first 512 samples",
              "max_abs_err_last_512": "max abs error, last 512 samples",
              "max_abs_err_interior": "max abs error, between the edges",
              "samples_err_over_1e-4": "samples with error > 1e-4 (worst example)"}
    table += [f"| reconstruction: {label} | {recon['sepssl'][k]:.3g} | {recon['asteroid'][k]:.3g} | |"
              for k, label in labels.items()]
    md = (f"# STFT analysis / synthesis: sepssl (torch.stft) vs asteroid_filterbanks STFTFB\n\n"
          f"Command: `{meta['command']}`  \nDate: {meta['date']}  \n"
          f"Machine: nproc {meta['nproc']}, {where(meta)}, torch {meta['torch']}, "
          f"torch threads: {meta['torch_threads']}; 1-min load average {meta['load_avg_1min']} "
          f"at start, "
          f"{meta['load_avg_1min_end']} at the end{shared_note(meta)}\n\n"
          f"Batch {a.batch} × {a.seconds:g} s at 16 kHz (unit-variance noise), n_fft {N_FFT}, "
          f"hop {HOP}; medians of {a.repeats} interleaved repeats after {a.warmup} warm-up. "
          f"Forward runs under no_grad; backward is from the summed power (Σ re² + im²) of the "
          f"output, into the input signal or, as when training the masker, into the spectrogram "
          f"only. "
          f"Ratio above 1: sepssl faster.\n\n" + "\n".join(table) + "\n")
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "stft.json").write_text(json.dumps({"meta": meta, "timing": rows,
                                                 "reconstruction": recon}, indent=2))
    (a.out / "stft.md").write_text(md)
    print("\n".join(table))


if __name__ == "__main__":
    main()
