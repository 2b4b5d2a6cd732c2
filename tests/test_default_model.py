"""The shipped models (`default`, and `noclean`: trained without clean speech): load offline
(weights only), enhance, and make the demo files better."""
import pytest
import torch

from sepssl import load_model
from sepssl.enhance import enhance_paths
from sepssl.evaluation import evaluate
from sepssl.models.enhancer import PRETRAINED


def test_default_model_loads_weights_only_and_enhances():
    """The shipped file is plain tensors and values (it loads with weights_only=True, so it
    cannot run code), it is the supervised model its card documents, and it enhances offline."""
    raw = torch.load(PRETRAINED / "default.pt", weights_only=True)
    assert isinstance(raw, dict)
    model = load_model("default")
    assert model.sample_rate == 16000 and model.card["trained_with"] == "supervised"
    assert (PRETRAINED / "MODEL_CARD.md").is_file()
    x = 0.1 * torch.randn(1, 8000, generator=torch.Generator().manual_seed(0))
    out = model.enhance(x, sample_rate=8000)               # resampled to 16 kHz and back
    assert out.shape == x.shape and torch.isfinite(out).all() and not torch.equal(out, x)


@pytest.mark.slow
def test_default_model_improves_quality_and_intelligibility(small_corpus, tmp_path):
    """On the demo set (the small corpus's test split, TTS voices and synthetic noise) PESQ and
    SI-SDR go up and STOI stays level, with the model's own 20 dB attenuation limit (measured:
    PESQ +0.23, SI-SDR +1.59 dB, STOI −0.003)."""
    model = load_model("default")
    assert model.atten_lim_db == 20.0  # chosen on the validation split (MODEL_CARD.md)
    report = enhance_paths(model, [str(small_corpus / "test" / "noisy")], tmp_path / "enh", progress=False)
    assert report.ok and report.written
    result = evaluate(small_corpus / "test" / "clean", tmp_path / "enh", small_corpus / "test" / "noisy",
                      report_dir=tmp_path / "report", jobs=2, progress=False)
    gain = {m: result.summary["scores"][m]["improvement"]["mean"] for m in ("pesq", "stoi", "si_sdr")}
    assert gain["pesq"] > 0.15 and gain["si_sdr"] > 1.0 and gain["stoi"] > -0.01, gain


def test_noclean_model_is_shipped_trained_without_clean_speech():
    """`--model noclean`: the second shipped model, trained by noisy_target (no clean speech),
    weights only, with its own 15 dB limit; it enhances like the default."""
    raw = torch.load(PRETRAINED / "noclean.pt", weights_only=True)
    assert isinstance(raw, dict)
    model = load_model("noclean")
    assert model.card["trained_with"] == "noisy_target" and model.atten_lim_db == 15.0
    train_speech = model.card["config"]["data"]["train_speech"]
    assert train_speech.endswith("train/noisy"), train_speech   # noisy recordings only
    x = 0.1 * torch.randn(1, 16000, generator=torch.Generator().manual_seed(0))
    out = model.enhance(x)
    assert out.shape == x.shape and torch.isfinite(out).all() and not torch.equal(out, x)
