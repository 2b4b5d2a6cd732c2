"""The three jobs end to end through the CLI: data → train a few steps → enhance → evaluate."""
import json

import pytest

from sepssl import audio, cli

pytestmark = pytest.mark.slow


def test_data_train_enhance_evaluate(small_corpus, tmp_path, capsys):
    run = tmp_path / "run"
    code = cli.main(["train", "-q", "recipes/noisy_target/conf.yaml",
                     "--set", f"data.train_speech={small_corpus}/train/noisy",
                     "--set", f"data.train_noise={small_corpus}/train/noise",
                     "--set", f"data.valid={small_corpus}/valid", "--set", "data.valid_files=3",
                     "--set", "data.batch_size=2", "--set", "data.num_workers=0",
                     "--set", "data.segment_seconds=1.0",
                     "--set", "model.hidden=16", "--set", "model.layers=1",
                     "--set", "trainer.max_steps=3", "--set", "trainer.val_every_steps=3",
                     "--set", f"trainer.out_dir={run}"])
    assert code == 0
    enhanced = tmp_path / "enhanced"
    assert cli.main(["enhance", "-q", str(small_corpus / "test" / "noisy"), "-o", str(enhanced),
                     "--model", str(run / "model.pt")]) == 0
    n_test = len(audio.find_audio(small_corpus / "test" / "noisy"))
    assert len(audio.find_audio(enhanced)) == n_test > 0
    capsys.readouterr()
    # the same command again: everything is there already, so nothing is redone and nothing fails
    assert cli.main(["enhance", "-q", str(small_corpus / "test" / "noisy"), "-o", str(enhanced),
                     "--model", str(run / "model.pt")]) == 0
    assert f"skipped {n_test} existing output(s)" in capsys.readouterr().err
    assert len(audio.find_audio(enhanced)) == n_test
    report = tmp_path / "report"
    code = cli.main(["evaluate", "-q", "--ref", str(small_corpus / "test" / "clean"), "--est", str(enhanced),
                     "--noisy", str(small_corpus / "test" / "noisy"), "--report", str(report), "--jobs", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads((report / "summary.json").read_text())
    assert summary and (report / "report.html").is_file() and (report / "scores.csv").is_file()
    assert "PESQ" in out or "pesq" in out
