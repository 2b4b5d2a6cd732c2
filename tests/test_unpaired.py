"""Task `unpaired` (CAE / MAE) and its network `cae_mae`: shapes, the analysis / synthesis
pair, the two phases and their terms, a tiny problem where each phase's loss falls, the config
checks, and train → save → load → enhance through the CLI."""
import pytest
import torch

from sepssl import cli, load_model
from sepssl.errors import ConfigError
from sepssl.models import Enhancer
from sepssl.tasks import build_task

from conftest import toy_config

TINY_NET = {"name": "cae_mae", "hidden": 16, "latent": 8, "layers": 1, "kernel": 3}


def raw(b=4, t=8000, noise=False):
    g = torch.Generator().manual_seed(0)
    out = {"speech": 0.1 * torch.randn(b, t, generator=g),
           "clean": 0.05 * torch.randn(b, t, generator=g)}
    if noise:
        out["noise"] = 0.2 * torch.randn(b, t, generator=g)
    return out


def test_network_maps_a_batch_to_one_output_of_its_length():
    enh = Enhancer(TINY_NET)
    x = 0.1 * torch.randn(3, 4321)
    assert enh.net(x).shape == (3, 1, 4321)
    assert enh(x).shape == (3, 4321)


def test_synthesis_of_the_analysed_frames_gives_the_signal_back():
    net = Enhancer(TINY_NET).net
    x = 0.3 * torch.randn(2, 8000)
    spec, frames, scale = net.analyse(x)
    assert frames.shape == spec.shape and (frames > 0).all()
    assert torch.allclose(net.synthesize(spec, frames, scale, 8000), x, atol=1e-4)


def test_a_bounded_gain_never_amplifies():
    net = Enhancer(TINY_NET).net
    x = 0.3 * torch.randn(1, 8000)
    spec, frames, scale = net.analyse(x)
    louder = net.synthesize(spec, 4 * frames, scale, 8000)
    assert torch.allclose(louder, x, atol=1e-4)   # gain clipped at 1: the input itself


def test_the_batch_carries_the_unpaired_clean_speech_and_noise_only_when_asked():
    task = build_task("unpaired")
    assert task.needs == ("speech", "clean")
    batch = task.make_batch(raw())
    assert batch.inputs.shape == (4, 8000) and batch.targets.shape == (4, 1, 8000)
    with_noise = build_task("unpaired", noise_weight=0.5)
    assert with_noise.needs == ("speech", "clean", "noise")
    assert with_noise.make_batch(raw(noise=True)).targets.shape == (4, 2, 8000)


def grads(module):
    return any(p.grad is not None for p in module.parameters())


@pytest.mark.parametrize("noise_weight", [0.0, 0.5])
def test_the_cae_learns_first_then_the_mae_alone(noise_weight):
    task = build_task("unpaired", cae_steps=3, noise_weight=noise_weight)
    enh = Enhancer(TINY_NET, rule=task.inference_rule())
    batch = task.make_batch(raw(noise=True))
    loss, terms = task.training_loss(enh, batch, step=2)
    loss.backward()
    assert set(terms) == {"cae_recon", "cae_code"}
    assert grads(enh.net.clean) and not grads(enh.net.mixture)
    enh.zero_grad(set_to_none=True)
    loss, terms = task.training_loss(enh, batch, step=3)
    loss.backward()
    expected = {"mae_recon", "cycle", "latent_cycle", "mae_code"}
    assert set(terms) == expected | ({"noise_to_silence"} if noise_weight else set())
    assert grads(enh.net.mixture) and not grads(enh.net.clean)
    o = task.options
    total = (terms["mae_recon"] + o.cycle_weight * terms["cycle"]
             + o.latent_cycle_weight * terms["latent_cycle"] + o.latent_penalty * terms["mae_code"]
             + noise_weight * terms.get("noise_to_silence", 0.0))
    assert torch.isclose(loss, total)


@pytest.mark.parametrize("distance", ["l2", "l1"])
def test_the_cycle_terms_are_the_trips_through_the_frozen_cae(distance):
    task = build_task("unpaired", cae_steps=1, latent_noise=0.0, distance=distance)
    torch.manual_seed(0)
    enh = Enhancer(TINY_NET)
    net, batch = enh.net, task.make_batch(raw())
    _, terms = task.training_loss(enh, batch, step=1)
    _, frames, _ = net.analyse(batch.inputs)
    code = net.mixture.encode(frames)
    kept = net.clean.encode(net.clean.decode(code))
    d = (lambda a, b: (a - b).square().mean()) if distance == "l2" else (lambda a, b: (a - b).abs().mean())
    assert torch.isclose(terms["latent_cycle"], d(kept, code))
    assert torch.isclose(terms["cycle"], d(net.mixture.decode(kept), frames))
    assert torch.isclose(terms["mae_recon"], d(net.mixture.decode(code), frames))
    assert torch.isclose(terms["mae_code"], code.square().mean() + kept.square().mean())


def test_the_codes_are_jittered_while_training():
    task = build_task("unpaired", cae_steps=1, latent_noise=1.0)
    enh = Enhancer(TINY_NET)
    batch = task.make_batch(raw())
    first = task.training_loss(enh, batch, step=0)[1]["cae_recon"]
    assert not torch.isclose(first, task.training_loss(enh, batch, step=0)[1]["cae_recon"])


def fit_phase(task, enh, batch, step, n=40):
    opt = torch.optim.Adam([p for p in enh.parameters()], lr=3e-3)
    history = []
    for _ in range(n):
        loss, _ = task.training_loss(enh, batch, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


def test_each_phase_loss_falls_on_a_tiny_problem():
    torch.manual_seed(0)
    task = build_task("unpaired", cae_steps=40)
    enh = Enhancer(TINY_NET, rule=task.inference_rule())
    batch = task.make_batch(raw())
    cae = fit_phase(task, enh, batch, step=0)
    before = [t.detach().clone() for t in enh.net.clean.state_dict().values()]
    mae = fit_phase(task, enh, batch, step=40)
    assert cae[-1] < 0.7 * cae[0] and mae[-1] < 0.7 * mae[0], (cae[::10], mae[::10])
    assert all(torch.equal(a, b) for a, b in zip(before, enh.net.clean.state_dict().values()))
    assert not enh.net.clean.training   # its batch norms' statistics stay the CAE phase's


def test_config_refuses_another_model_and_a_missing_clean_source(toy_set, tmp_path):
    with pytest.raises(ConfigError, match="model.name: task unpaired .*model.name=cae_mae"):
        toy_config(toy_set, tmp_path, task="unpaired")
    with pytest.raises(ConfigError, match="model.kernel: 4 is even"):
        toy_config(toy_set, tmp_path, task="unpaired", extra=["model.name=cae_mae",
                                                              "model.kernel=4"])
    with pytest.raises(ConfigError, match="model.power: 2.0 expands"):
        toy_config(toy_set, tmp_path, task="unpaired", extra=["model.name=cae_mae",
                                                              "model.power=2"])
    from sepssl.train import make_loaders

    cfg = toy_config(toy_set, tmp_path, task="unpaired", extra=["model.name=cae_mae"])
    with pytest.raises(ConfigError, match="data.train_clean: task unpaired needs it"):
        make_loaders(cfg, build_task(cfg.task))


def test_trains_saves_loads_and_enhances_through_the_cli(toy_set, tmp_path, capsys):
    out = tmp_path / "run"
    sets = ["task.cae_steps=2", "model.hidden=16", "model.latent=8", "model.layers=1",
            f"data.train_speech={toy_set}/train/noisy",
            f"data.train_clean={toy_set}/train/clean", f"data.valid={toy_set}/valid",
            "data.valid_files=2", "data.segment_seconds=0.5", "data.batch_size=2",
            "data.num_workers=0", f"trainer.out_dir={out}", "trainer.max_steps=4",
            "trainer.val_every_steps=2", "trainer.log_every_steps=1", "trainer.progress=false"]
    args = ["train", "-q", "unpaired"]   # the shipped recipe, by name
    for item in sets:
        args += ["--set", item]
    assert cli.main(args) == 0, capsys.readouterr().err
    model = load_model(out / "model.pt")
    assert model.card["trained_with"] == "unpaired" and model.card["steps"] == 4
    logged = next((out / "logs").rglob("metrics.csv")).read_text()
    assert "train/cae_recon" in logged and "train/latent_cycle" in logged
    enhanced = tmp_path / "enhanced"
    code = cli.main(["enhance", "-q", str(toy_set / "valid" / "noisy"), "-o", str(enhanced),
                     "--model", str(out / "model.pt")])
    assert code == 0, capsys.readouterr().err
    assert len(list(enhanced.glob("*.wav"))) == 3
