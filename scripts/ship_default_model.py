"""Copy a trained model into the package as the `default` model, with its test results in the
card. Run after `sepssl evaluate` on the corpus test split:

    python scripts/ship_default_model.py runs/noisy_target/model.pt runs/noisy_target/test_report
"""
import json
import sys
from pathlib import Path

from sepssl import load_model
from sepssl.models.enhancer import PRETRAINED


def main(model_path: str, report_dir: str) -> None:
    model = load_model(model_path)
    summary = json.loads((Path(report_dir) / "summary.json").read_text())
    model.card["test_split"] = {
        m: {k: summary["scores"][m][k]["mean"] for k in ("input", "enhanced", "improvement")}
        for m in ("pesq", "stoi", "estoi", "si_sdr")}
    model.card["test_files"] = summary["files"]["scored"]
    model.card["card"] = "sepssl/pretrained/MODEL_CARD.md"
    path = model.save(PRETRAINED / "default.pt")
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB, {params / 1e6:.2f} M parameters)")


if __name__ == "__main__":
    main(*sys.argv[1:3])
