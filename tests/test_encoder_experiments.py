"""The encoders' experiments: the little-clean-data subset list and recipe on a pre-trained
encoder (a few steps on the small corpus), the speaker-identity probe, and the pre-training
summary table."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sepssl import cli, load_model
from sepssl.config import load_config
from sepssl.data.datasets import list_audio
from sepssl.train import train

from conftest import write_cfg

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "little_clean"

pytestmark = pytest.mark.slow   # the small corpus, pre-training runs, scripts in fresh processes


def run(script: Path, *args: str) -> str:
    res = subprocess.run([sys.executable, str(script), *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return res.stdout


@pytest.fixture(scope="module")
def subset(small_corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("subset") / "lists" / "clean.txt"
    run(RECIPE / "make_subset.py", "--corpus", small_corpus, "--minutes", 0.2, "--out", out)
    return out


def test_subset_is_clean_speech_of_the_asked_length(small_corpus, subset, tmp_path):
    import soundfile as sf

    files = list_audio(subset)
    assert all(f.resolve().parent == (small_corpus / "train" / "clean").resolve() for f in files)
    seconds = [sf.info(str(f)).duration for f in files]
    assert sum(seconds) >= 12 and sum(seconds) - seconds[-1] < 12   # stops once it has enough
    again = tmp_path / "again.txt"
    run(RECIPE / "make_subset.py", "--corpus", small_corpus, "--minutes", 0.2, "--out", again)
    assert [f.resolve() for f in list_audio(again)] == [f.resolve() for f in files]  # same seed


def test_recipe_trains_on_a_pretrained_encoder(small_corpus, subset, toy_set, tmp_path):
    """conf.yaml with the options run.sh adds for `cpc_finetuned`, on tiny sizes."""
    assert cli.main(["pretrain", "-q", str(write_cfg(tmp_path, toy_set, "cpc", steps=2))]) == 0
    cfg = load_config(RECIPE / "conf.yaml", [
        "model.hidden=16", "model.layers=1", f"model.encoder.checkpoint={tmp_path / 'cpc' / 'encoder.pt'}",
        "model.encoder.frozen=false", "model.encoder.layers=weighted",
        f"data.train_speech={subset}", f"data.train_noise={small_corpus}/train/noise",
        f"data.valid={small_corpus}/valid", "data.valid_files=2", "data.segment_seconds=0.5",
        "data.batch_size=2", "data.num_workers=0", f"trainer.out_dir={tmp_path / 'run'}",
        "trainer.max_steps=2", "trainer.val_every_steps=2", "trainer.progress=false"])
    assert cfg.task.name == "supervised"
    model = load_model(train(cfg))
    assert model.net.encoder_spec["frozen"] is False


def test_speaker_probe_scores_every_encoder_and_baseline(small_corpus, toy_set, tmp_path):
    assert cli.main(["pretrain", "-q", str(write_cfg(tmp_path, toy_set, "cpc", steps=2))]) == 0
    out = tmp_path / "probe"
    run(ROOT / "experiments" / "speaker_probe.py", "--corpus", small_corpus, "--encoder",
        tmp_path / "cpc" / "encoder.pt", "--per-speaker", 16, "--out", out)
    result = json.loads((out / "speaker_probe.json").read_text())
    rows = result["rows"]
    weights = {r["weights"] for r in rows}
    assert {"—", "random init"} <= weights and any(w.startswith("pre-trained") for w in weights)
    assert len(rows) == 1 + 2 * 2          # log-mel, and two CPC layers × (trained, random)
    assert all(0.0 <= r["balanced_accuracy"] <= 1.0 for r in rows)
    # the synthetic voices differ in pitch and timbre: log-mel statistics must beat chance
    assert rows[0]["balanced_accuracy"] > 2 * result["chance"]   # measured: 0.60, chance 0.17
    assert "| log-mel mean + std |" in (out / "speaker_probe.md").read_text()


def test_pretrain_summary_reads_the_logged_curves(toy_set, tmp_path):
    assert cli.main(["pretrain", "-q", str(write_cfg(tmp_path, toy_set, "wav2vec2", steps=4))]) == 0
    out = tmp_path / "summary"
    run(ROOT / "experiments" / "pretrain_summary.py", tmp_path / "wav2vec2", "--window", 2, "--out", out)
    [summary] = json.loads((out / "pretraining.json").read_text())
    assert summary["steps"] == 4 and summary["encoder"] == "wav2vec2"
    for key in ("loss", "contrastive", "code_perplexity", "embed_std"):
        assert key in summary["first"] and key in summary["last"]
    assert summary["embed_std_min"] is not None and summary["embed_std_min"] >= 0
    table = (out / "pretraining.md").read_text()
    assert "| code_perplexity |" in table and "Lowest `embed_std`" in table


def test_pretext_eval_scores_encoders_on_the_same_held_out_batches(toy_set, tmp_path):
    assert cli.main(["pretrain", "-q", str(write_cfg(tmp_path, toy_set, "wav2vec2", steps=2))]) == 0
    enc = tmp_path / "wav2vec2" / "encoder.pt"
    out = tmp_path / "eval"
    args = ("--audio", toy_set / "train" / "noisy", "--batches", 2, "--batch-size", 2,
            "--seconds", 1.0, "--out", out)
    run(ROOT / "experiments" / "pretext_eval.py", enc, enc, *args)
    first = json.loads((out / "pretext_eval.json").read_text())["scores"][str(enc)]
    assert 0.0 <= first["accuracy"] <= 1.0 and first["contrastive"] > 0
    run(ROOT / "experiments" / "pretext_eval.py", enc, *args)      # same crops, masks: same numbers
    again = json.loads((out / "pretext_eval.json").read_text())["scores"][str(enc)]
    assert again == pytest.approx(first, rel=1e-5)
    assert "| accuracy | contrastive |" in (out / "pretext_eval.md").read_text()
