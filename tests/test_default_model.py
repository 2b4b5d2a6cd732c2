"""The shipped default model: loads offline (weights only), enhances, and makes the demo files better."""
import pytest
import torch

from sepssl import load_model
from sepssl.enhance import enhance_paths
from sepssl.evaluation import evaluate
from sepssl.models.enhancer import PRETRAINED


def test_default_model_loads_weights_only_and_enhances():
    """The shipped file is plain tensors and values (it loads with weights_only=True, so it
    cannot run code), it is the noisy_target model its card documents, and it enhances offline."""
    raw = torch.load(PRETRAINED / "default.pt", weights_only=True)
    assert isinstance(raw, dict)
    model = load_model("default")
    assert model.sample_rate == 16000 and model.card["trained_with"] == "noisy_target"
    assert (PRETRAINED / "MODEL_CARD.md").is_file()
    x = 0.1 * torch.randn(1, 8000, generator=torch.Generator().manual_seed(0))
    out = model.enhance(x, sample_rate=8000)               # resampled to 16 kHz and back
    assert out.shape == x.shape and torch.isfinite(out).all() and not torch.equal(out, x)


@pytest.mark.slow
def test_default_model_improves_quality_and_intelligibility(small_corpus, tmp_path):
    """On the demo set (the small corpus's test split) PESQ, STOI and SI-SDR go up, with the
    model's own 12 dB attenuation limit (measured on the demo files: PESQ +0.14, STOI +0.010,
    SI-SDR +1.32 dB; without the limit STOI +0.004)."""
    model = load_model("default")
    assert model.atten_lim_db == 12.0  # chosen on the validation split (MODEL_CARD.md)
    report = enhance_paths(model, [str(small_corpus / "test" / "noisy")], tmp_path / "enh", progress=False)
    assert report.ok and report.written
    result = evaluate(small_corpus / "test" / "clean", tmp_path / "enh", small_corpus / "test" / "noisy",
                      report_dir=tmp_path / "report", jobs=2, progress=False)
    gain = {m: result.summary["scores"][m]["improvement"]["mean"] for m in ("pesq", "stoi", "si_sdr")}
    assert gain["pesq"] > 0.1 and gain["si_sdr"] > 0.5 and gain["stoi"] > 0.0, gain
