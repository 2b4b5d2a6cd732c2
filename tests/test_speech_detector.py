"""MixIT's speech detector: it learns noisy speech from noise without clean speech, model files
carry it, and inference weighs the other outputs by it."""
import pytest
import torch

from sepssl import cli, load_model
from sepssl.errors import ConfigError, ModelError
from sepssl.models import Enhancer
from sepssl.models import speech_detector as sd
from sepssl.tasks import build_task

from conftest import ROOT, noise, recipe_config, voiced

RECIPES = ROOT / "recipes" / "mixit"


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def detector_file(toy_set, tmp_path_factory):
    out = tmp_path_factory.mktemp("det") / "speech_detector.pt"
    return sd.train_speech_detector(toy_set / "train" / "noisy", toy_set / "train" / "noise",
                                    out, steps=60, batch_size=4, segment_seconds=0.5,
                                    hidden=8, lr=0.01, progress=False)


def test_detector_learns_noisy_speech_from_noise(detector_file):
    det = sd.load_speech_detector(detector_file)
    assert det.card["loss_last_steps"] < 0.5 * det.card["loss_first_steps"]
    speech = torch.stack([torch.from_numpy(voiced(1.0, seed=70 + i)) for i in range(3)])
    hiss = torch.stack([torch.from_numpy(noise(1.0, seed=400 + i, color=1.0)) for i in range(3)])
    p = det.probability(torch.stack([speech, hiss]))          # (2, 3): any leading shape
    assert p.shape == (2, 3)
    assert (p[0] > 0.5).all() and (p[1] < 0.5).all()


def test_enhancer_adds_other_outputs_weighted_by_speech_probability(detector_file):
    det = sd.load_speech_detector(detector_file)
    task = build_task("mixit", outputs=3, speech_detector=str(detector_file))
    torch.manual_seed(0)
    enh = Enhancer({"name": "masker", "hidden": 8, "layers": 1}, rule=task.inference_rule()).eval()
    x = torch.from_numpy(voiced(1.0, seed=5) + noise(1.0, seed=6))[None]
    with torch.no_grad():
        est = enh.separate(x)
        p = det.probability(est[:, 1:])
        expected = est[:, 0] + (p[..., None] * est[:, 1:]).sum(1)
        assert torch.allclose(enh(x), expected, atol=1e-6)
        enh.detector = None                                     # without it: output 0 only
        assert torch.allclose(enh(x), est[:, 0])


def test_model_files_and_checkpoint_meta_keep_the_detector(detector_file, tmp_path):
    task = build_task("mixit", speech_detector=str(detector_file))
    enh = Enhancer({"name": "masker", "hidden": 8, "layers": 1}, rule=task.inference_rule()).eval()
    enh.save(tmp_path / "m.pt")
    back = load_model(tmp_path / "m.pt")
    assert back.detector is not None and not any(p.requires_grad for p in back.detector.parameters())
    x = torch.randn(1, 8000)
    with torch.no_grad():
        assert torch.allclose(back(x), enh(x), atol=1e-6)
    assert build_task("mixit").inference_rule().detector is None


def test_detector_errors_are_clear(detector_file, tmp_path):
    with pytest.raises(ConfigError, match="speech_detector"):
        build_task("mixit", mode="separate", speech_detector=str(detector_file))
    with pytest.raises(ModelError, match="nope.pt: speech detector file not found"):
        build_task("mixit", speech_detector=str(tmp_path / "nope.pt")).inference_rule()
    other = tmp_path / "enhancer.pt"
    Enhancer({"name": "masker", "hidden": 4, "layers": 1}).save(other)
    with pytest.raises(ModelError, match="enhancer.pt: not a file of the speech detector kind"):
        sd.load_speech_detector(other)
    with pytest.raises(ConfigError, match="steps"):
        sd.train_speech_detector("a", "b", tmp_path / "d.pt", steps=0)


def test_helper_command_trains_a_detector(toy_set, tmp_path, capsys):
    out = tmp_path / "d.pt"
    code = cli.main(["helper", "speech-detector", "--speech", str(toy_set / "train" / "noisy"),
                     "--noise", str(toy_set / "train" / "noise"), "--out", str(out), "--steps", "2",
                     "--batch-size", "2", "--segment-seconds", "0.5", "--hidden", "4", "-q"])
    assert code == 0 and sd.load_speech_detector(out).card["steps"] == 2
    assert "speech detector written to" in capsys.readouterr().out


def test_helper_command_attaches_a_detector(detector_file, tmp_path, capsys):
    """`sepssl helper attach-detector`: a MixIT model without a detector gets one in its file,
    and inference then weighs the other outputs by it."""
    torch.manual_seed(0)
    plain = Enhancer({"name": "masker", "hidden": 8, "layers": 1},
                     rule=build_task("mixit", outputs=3).inference_rule()).eval()
    plain.save(tmp_path / "m.pt")
    out = tmp_path / "m_detector.pt"
    assert cli.main(["helper", "attach-detector", str(tmp_path / "m.pt"), str(detector_file),
                     "--out", str(out)]) == 0
    assert "model with speech detector written to" in capsys.readouterr().out
    model = load_model(out)
    assert model.detector is not None and load_model(tmp_path / "m.pt").detector is None
    x = torch.from_numpy(voiced(1.0, seed=5) + noise(1.0, seed=6))[None]
    with torch.no_grad():
        est = model.separate(x)
        expected = est[:, 0] + (model.detector.probability(est[:, 1:])[..., None] * est[:, 1:]).sum(1)
        assert torch.allclose(model(x), expected, atol=1e-6)


@pytest.mark.slow
def test_detector_recipe_trains_a_few_steps(toy_set, tmp_path, detector_file):
    from sepssl.train import train

    cfg = recipe_config(RECIPES / "conf_detector.yaml", toy_set, tmp_path / "run",
                        [f"task.speech_detector={detector_file}"])
    model = load_model(train(cfg))
    assert model.detector is not None and model.card["trained_with"] == "mixit"
    assert load_model(tmp_path / "run" / "checkpoints" / "last.ckpt").detector is not None
    assert torch.isfinite(model.enhance(0.1 * torch.randn(1, 4000))).all()
