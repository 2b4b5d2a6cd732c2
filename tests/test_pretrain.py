"""`sepssl pretrain`: a few real steps of each encoder through the CLI, the exported encoder,
the logged collapse statistics, resume, config errors, and an enhancer trained on top of a
pre-trained encoder (the recipes themselves: test_recipes.py)."""
import csv
import json
import math
from pathlib import Path

import pytest
import torch

from sepssl import cli, load_model
from sepssl.config import load_config
from sepssl.encoders import ENCODERS, load_encoder
from sepssl.train import train

from conftest import write_cfg

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def metrics(out: Path) -> list[dict]:
    return list(csv.DictReader(open(next((out / "logs").rglob("metrics.csv")))))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_pretrain_cli_exports_a_loadable_encoder(toy_set, tmp_path, name, capsys):
    code = cli.main(["pretrain", "-q", str(write_cfg(tmp_path, toy_set, name))])
    assert code == 0
    out = tmp_path / name
    assert f"encoder written to {out / 'encoder.pt'}" in capsys.readouterr().out
    raw = torch.load(out / "encoder.pt", weights_only=True)
    assert raw["format"] == "sepssl-encoder/1" and raw["name"] == name
    enc = load_encoder(out / "encoder.pt")
    assert enc.card["steps"] == 3 and enc.card["pretrained_with"] == name
    assert json.loads((out / "encoder_card.json").read_text())["steps"] == 3
    feats = enc.layer_features(torch.randn(1, 8000) * 0.1)
    assert torch.isfinite(feats[-1]).all()
    rows = metrics(out)
    want = ["train/loss", "train/embed_std"]
    if name == "wav2vec2":
        want += ["train/code_perplexity", "train/prob_perplexity", "train/temperature"]
    for key in want:
        values = [float(r[key]) for r in rows if r.get(key)]
        assert len(values) == 3 and all(math.isfinite(v) for v in values), key
    from_ckpt = load_encoder(out / "checkpoints" / "last.ckpt")      # the checkpoint loads too
    for k, v in enc.state_dict().items():
        assert torch.equal(from_ckpt.state_dict()[k], v), k


@pytest.mark.slow
def test_pretrain_resumes_with_its_annealing_state(toy_set, tmp_path):
    cfg = write_cfg(tmp_path, toy_set, "wav2vec2", steps=2)
    assert cli.main(["pretrain", "-q", str(cfg)]) == 0
    assert cli.main(["pretrain", "-q", str(cfg), "--set", "trainer.max_steps=4"]) == 0
    enc = load_encoder(tmp_path / "wav2vec2" / "encoder.pt")
    assert enc.card["steps"] == 4
    assert int(enc.pretext.step) == 4                          # temperature schedule went on
    ckpt = torch.load(tmp_path / "wav2vec2" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4


@pytest.mark.parametrize("override, key", [("encoder.bogus=1", "encoder.bogus"),
                                           ("data.bogus=1", "data.bogus"),
                                           ("encoder.name=hubert", "encoder.name")])
def test_bad_config_is_a_one_line_error(toy_set, tmp_path, capsys, override, key):
    cfg = write_cfg(tmp_path, toy_set, "cpc")
    assert cli.main(["pretrain", "-q", str(cfg), "--set", override]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err and err.startswith("sepssl pretrain: error:")


@pytest.mark.slow
def test_enhancer_trains_on_a_pretrained_encoder(toy_set, tmp_path):
    """The recipe's shape (recipes/cpc/enhance_conf.yaml) on tiny data: pre-train, then train a
    noisy-target enhancer on the frozen encoder; the model file needs no encoder file."""
    assert cli.main(["pretrain", "-q", str(write_cfg(tmp_path, toy_set, "cpc", steps=2))]) == 0
    enc_path = tmp_path / "cpc" / "encoder.pt"
    recipe = load_config(RECIPES / "cpc" / "enhance_conf.yaml")
    assert recipe.model.encoder.checkpoint == "runs/cpc/encoder.pt"
    cfg = load_config(None, [
        "model.hidden=16", "model.layers=1", f"model.encoder.checkpoint={enc_path}",
        "model.encoder.layers=last", f"data.train_speech={toy_set}/train/noisy",
        f"data.train_noise={toy_set}/train/noise", f"data.valid={toy_set}/valid",
        "data.segment_seconds=0.5", "data.batch_size=2", "data.num_workers=0",
        f"trainer.out_dir={tmp_path / 'enh'}", "trainer.max_steps=2", "trainer.val_every_steps=2",
        "trainer.progress=false"])
    pretrained = load_encoder(enc_path, pretext=False).state_dict()
    path = train(cfg)
    enc_path.unlink()
    model = load_model(path)
    assert model.to_dict()["model"]["encoder"]["frozen"] is True
    for k, v in model.net.encoder.state_dict().items():      # frozen: weights as pre-trained
        assert torch.equal(v, pretrained[k]), k
    ckpt_model = load_model(tmp_path / "enh" / "checkpoints" / "best.ckpt")
    x = torch.randn(1, 4000) * 0.1
    assert torch.allclose(ckpt_model(x), model(x), atol=1e-6)
