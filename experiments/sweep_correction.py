"""Measure Noisier2Noise's inference correction `((1 + a²)·f(y) − y) / a²` for several a on a
corpus split, against no correction (the model's `correction_alpha`).

    python experiments/sweep_correction.py valid [--model runs/noisy_target/model.pt]
"""
import argparse
import json
from pathlib import Path

from sepssl import load_model
from sepssl.enhance import enhance_paths
from sepssl.evaluation import evaluate

METRICS = ("pesq", "stoi", "estoi", "si_sdr")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("split", choices=["valid", "test"])
    p.add_argument("--model", default="runs/noisy_target/model.pt")
    p.add_argument("--corpus", default="corpus")
    p.add_argument("--alphas", type=float, nargs="+", default=[1.0, 1.5, 2.0, 3.0])
    p.add_argument("--out", default="runs/noisy_target/correction_sweep")
    a = p.parse_args()
    split = Path(a.corpus) / a.split
    results = {}
    for alpha in [None, *a.alphas]:
        model = load_model(a.model)
        model.correction_alpha = alpha
        work = Path(a.out) / a.split / f"alpha_{alpha}"
        enhance_paths(model, [str(split / "noisy")], work / "enhanced", progress=False)
        scores = evaluate(split / "clean", work / "enhanced", split / "noisy", report_dir=work / "report",
                          jobs=2, progress=False).summary["scores"]
        results[str(alpha)] = {m: round(scores[m]["improvement"]["mean"], 3) for m in METRICS}
        print(f"alpha={alpha}: improvement {results[str(alpha)]}", flush=True)
    (Path(a.out) / f"{a.split}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
