"""The shipped default model: loads offline, is small, and makes the demo files better."""
from sepssl import load_model
from sepssl.enhance import enhance_paths
from sepssl.evaluate import evaluate
from sepssl.models.enhancer import PRETRAINED


def test_default_model_is_shipped_small_and_documented():
    path = PRETRAINED / "default.pt"
    assert path.stat().st_size < 10 * 2**20
    model = load_model("default")
    assert model.sample_rate == 16000 and model.card["trained_with"] == "noisy_target"
    assert (PRETRAINED / "MODEL_CARD.md").is_file()


def test_default_model_improves_pesq_stoi_and_si_sdr_on_the_demo_set(small_corpus, tmp_path):
    model = load_model("default")
    report = enhance_paths(model, [str(small_corpus / "test" / "noisy")], tmp_path / "enh", progress=False)
    assert report.ok and report.written
    result = evaluate(small_corpus / "test" / "clean", tmp_path / "enh", small_corpus / "test" / "noisy",
                      report_dir=tmp_path / "report", jobs=2, progress=False)
    scores = result.summary["scores"]
    for metric in ("pesq", "stoi", "si_sdr"):
        assert scores[metric]["improvement"]["mean"] > 0, (metric, scores[metric])
