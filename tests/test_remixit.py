"""The `remixit` task: teacher remixes, the student loss, EMA / replacement of the teacher."""
import pytest
import torch

from sepssl import load_model
from sepssl.errors import ConfigError
from sepssl.models import Enhancer, InferenceRule
from sepssl.tasks import build_task
from sepssl.train import train

from conftest import toy_config

TINY = {"name": "masker", "hidden": 16, "layers": 1}


@pytest.fixture
def teacher_file(tmp_path):
    torch.manual_seed(0)
    return Enhancer(TINY).save(tmp_path / "teacher.pt")


def student():
    torch.manual_seed(1)
    return Enhancer(TINY).net


def raw(b=5, t=4000):
    g = torch.Generator().manual_seed(0)
    return {"speech": 0.1 * torch.randn(b, t, generator=g), "noise": torch.randn(b, t, generator=g)}


def test_batch_is_teacher_speech_plus_permuted_teacher_noise(teacher_file):
    task = build_task("remixit", teacher=str(teacher_file), gain_db=[0.0, 0.0])
    task.helpers(student())
    r = raw()
    torch.manual_seed(3)
    batch = task.make_batch(r)
    speech, noise = batch.targets[:, 0], batch.targets[:, 1]
    assert torch.allclose(batch.inputs, speech + noise, atol=1e-6)
    teacher = load_model(teacher_file)
    with torch.no_grad():
        s_t = teacher(r["speech"])
    gain = speech[:, 100] / s_t[:, 100]
    assert torch.allclose(speech, s_t * gain[:, None], atol=1e-5)
    n_t = r["speech"] - s_t
    # every student noise is one of the teacher's noise estimates, and they are all used
    match = torch.cdist(noise / noise.norm(dim=1, keepdim=True),
                        n_t / n_t.norm(dim=1, keepdim=True)).argmin(1)
    assert sorted(match.tolist()) == list(range(5))


def test_loss_is_half_speech_half_noise_and_clamped(teacher_file):
    task = build_task("remixit", teacher=str(teacher_file))
    task.helpers(student())
    batch = task.make_batch(raw())
    assert torch.isclose(task.loss(batch.targets[:, :1], batch), torch.tensor(-30.0))
    est = torch.zeros_like(batch.targets[:, :1]).requires_grad_(True)
    value = task.loss(est, batch)
    value.backward()
    assert value > 0 and torch.isfinite(est.grad).all()


def test_ema_moves_the_teacher_toward_the_student(teacher_file):
    task = build_task("remixit", teacher=str(teacher_file), momentum=0.9)
    net = student()
    task.helpers(net)
    before = {k: v.clone() for k, v in task.teacher.enhancer.net.state_dict().items()}
    task.after_step(net)
    for k, v in task.teacher.enhancer.net.state_dict().items():
        assert torch.allclose(v, 0.9 * before[k] + 0.1 * net.state_dict()[k], atol=1e-6)
    assert int(task.teacher.steps) == 1


def test_replace_copies_the_student_every_k_steps(tmp_path):
    mixit_teacher = Enhancer(TINY, rule=InferenceRule(4, [0], mixture_consistency=True))
    path = mixit_teacher.save(tmp_path / "mixit.pt")
    with pytest.raises(ConfigError, match="EMA"):
        build_task("remixit", teacher=str(path)).helpers(student())
    task = build_task("remixit", teacher=str(path), teacher_update="replace", replace_every=2)
    net = student()
    task.helpers(net)
    task.make_batch(raw())  # a 4-output MixIT teacher works: its speech outputs are summed
    task.after_step(net)
    assert task.teacher.enhancer.n_outputs == 4
    task.after_step(net)
    x = torch.randn(1, 4000)
    assert torch.allclose(task.teacher(x), net(x)[:, 0], atol=1e-6)


def test_remixit_needs_a_teacher():
    with pytest.raises(ConfigError, match="task.teacher"):
        build_task("remixit").helpers(student())
    with pytest.raises(ConfigError, match="teacher_update"):
        build_task("remixit", teacher_update="swap")


@pytest.mark.slow
def test_remixit_recipe_smoke(toy_set, tmp_path):
    teacher = train(toy_config(toy_set, tmp_path / "nt", "noisy_target", steps=2))
    cfg = toy_config(toy_set, tmp_path / "rx", "remixit",
                     extra=[f"task.teacher={teacher}", f"trainer.init_from={teacher}"])
    model = load_model(train(cfg))
    assert model.card["trained_with"] == "remixit"
    ckpt = torch.load(tmp_path / "rx" / "checkpoints" / "last.ckpt", weights_only=True)
    assert int(ckpt["state_dict"]["helpers.teacher.steps"]) == 4
    assert model.enhance(torch.randn(1, 8000) * 0.1).shape == (1, 8000)
