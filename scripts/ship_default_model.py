"""Copy a trained model into the package as a shipped model (`--name default`, or `noclean`:
trained without clean speech), with its test results in the card. Run after `sepssl evaluate` on the corpus test split, of the model as it will run (with
`--atten-lim-db DB` if it will carry that attenuation limit as its own setting):

    python scripts/ship_default_model.py runs/noisy_target_stage2/model.pt \
        runs/noisy_target_stage2/test_report_lim12 --atten-lim-db 12
"""
import argparse
import json
from pathlib import Path

from sepssl import load_model
from sepssl.models.enhancer import PRETRAINED, SHIPPED


def main(model_path: str, report_dir: str, atten_lim_db: float | None = None,
         name: str = "default") -> None:
    model = load_model(model_path)
    model.atten_lim_db = atten_lim_db
    summary = json.loads((Path(report_dir) / "summary.json").read_text())
    model.card["test_split"] = {
        m: {k: summary["scores"][m][k]["mean"] for k in ("input", "enhanced", "improvement")}
        for m in ("pesq", "stoi", "estoi", "si_sdr")}
    model.card["test_files"] = summary["files"]["scored"]
    model.card["card"] = "sepssl/pretrained/MODEL_CARD.md"
    path = model.save(PRETRAINED / f"{name}.pt")
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB, {params / 1e6:.2f} M parameters)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("report", help="`sepssl evaluate` report of the model as shipped")
    p.add_argument("--atten-lim-db", type=float, default=None,
                   help="the attenuation limit `sepssl enhance` applies by default with this model")
    p.add_argument("--name", default="default", choices=SHIPPED, help="the shipped name")
    a = p.parse_args()
    main(a.model, a.report, a.atten_lim_db, a.name)
