"""What the commands print: words, not dict reprs."""
from sepssl.cli import corpus_summary


def test_the_corpus_summary_says_what_was_built_in_words():
    summary = {"size": "small", "seed": 3,
               "counts": {"train": {"noisy": 40, "noise": 10}, "test": {"clean": 8, "noisy": 8}},
               "hours": {"train": {"noisy": 0.05, "noise": 0.01}, "test": {"clean": 0.01, "noisy": 0.01}},
               "sources": {"tts_engines": {"espeak-ng": "1.51"}, "real_speech_packages": [],
                           "real_noise_packages": [{"name": "tuxpaint-data"}],
                           "synthetic_noise_kinds": ["white", "pink"]}}
    text = corpus_summary(summary, "out")
    assert "{" not in text and "corpus (small, seed 3) written to out" in text
    assert "train: 40 noisy files (3.0 min), 10 noise files (0.6 min)" in text
    assert "real: none" in text and "tuxpaint-data" in text and "white, pink" in text


def test_train_prints_only_its_result_on_stdout_and_no_lightning_chatter(toy_set, tmp_path, capfd):
    from sepssl import cli

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""
task: {{name: noisy_target}}
model: {{name: masker, hidden: 8, layers: 1}}
data: {{train_speech: {toy_set}/train/noisy, train_noise: {toy_set}/train/noise,
        segment_seconds: 0.5, batch_size: 2, num_workers: 0}}
trainer: {{max_steps: 2, val_every_steps: 2, out_dir: {tmp_path / 'run'}}}
""")
    assert cli.main(["train", str(cfg), "--threads", "1"]) == 0
    out, err = capfd.readouterr()
    assert out.strip() == f"model written to {tmp_path / 'run' / 'model.pt'}"
    assert "Tip" not in err and "GPU available" not in err
