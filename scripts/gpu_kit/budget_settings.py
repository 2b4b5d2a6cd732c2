"""The budget run's settings, from what the throughput benchmarks measured on this card.

    python scripts/gpu_kit/budget_settings.py RESULTS MINUTES    # prints `--set k=v` lines

Batch and precision: the fastest eager setting of `RESULTS/train_throughput.json`. Compiling
(`trainer.compile`): the mode of `RESULTS/compiled/train_throughput.json` when it trained at
least 10% faster there, counting its compile time as part of the budget. Steps: as many as
85% of the budget holds at the measured step time (validation and Lightning's bookkeeping take
the rest), so that the cosine schedule decays to zero when the minutes run out, instead of a
constant rate cut off by the clock. Without the benchmark's results: the recipe's batch, 1500
steps.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

SHARE = 0.85     # of the budget spent in training steps
GAIN = 1.10      # a compiled step must be this much faster to be used


def settings(results: Path, minutes: float, fallback_batch: int = 256) -> list[str]:
    """`key=value` overrides for `sepssl train gpu_budget`.

    Args:
        results: the folder with `train_throughput.json` (and `compiled/` beside it, if run).
        minutes: the training budget.
        fallback_batch: the batch when the benchmark left nothing.
    Returns:
        The overrides, in order.
    """
    budget = minutes * 60 * SHARE
    try:
        best = json.loads((results / "train_throughput.json").read_text())["best"]
    except (OSError, ValueError, KeyError):
        return [f"data.batch_size={fallback_batch}", "trainer.max_steps=1500",
                "optim.schedule=cosine"]
    step_s, compile_mode = best["step_s"], "off"
    try:
        compiled = json.loads((results / "compiled" / "train_throughput.json").read_text())["best"]
        if (compiled["batch"] == best["batch"] and compiled["precision"] == best["precision"]
                and compiled["step_s"] * GAIN <= step_s):
            budget -= compiled["first_steps_s"]
            step_s, compile_mode = compiled["step_s"], compiled["compile"]
    except (OSError, ValueError, KeyError):
        pass
    steps = max(int(budget / step_s), 10)
    precision = "bf16-mixed" if best["precision"] == "bf16" else "32-true"
    return [f"data.batch_size={best['batch']}", f"trainer.precision={precision}",
            f"trainer.compile={compile_mode}", f"trainer.max_steps={steps}",
            f"optim.warmup_steps={min(200, steps // 10)}", "optim.schedule=cosine"]


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: budget_settings.py RESULTS MINUTES")
    print("\n".join(settings(Path(sys.argv[1]), float(sys.argv[2]))))
