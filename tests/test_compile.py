"""`trainer.compile`: the enhancer's network compiled for the training steps, the GPU path's
other pieces beside it (device-resident data, rooms convolved on the device), the export
unchanged."""
import pytest
import torch

from conftest import toy_config

pytestmark = pytest.mark.usefixtures("one_thread")

GPU_PATH = ["data.resident=true", "task.recording_chain.reverb_p=1.0",
            "task.recording_chain.reverb_rooms=4"]


def test_compile_is_refused_when_unknown(toy_set, tmp_path):
    from sepssl.errors import ConfigError

    with pytest.raises(ConfigError, match="trainer.compile"):
        toy_config(toy_set, tmp_path, extra=["trainer.compile=fast"])


def test_a_compiled_run_traces_the_network_and_exports_the_same_keys(toy_set, tmp_path,
                                                                     monkeypatch):
    """Dynamo traces the network in every training step; inductor's C++ build (40 s on this
    CPU) is replaced by the eager backend, so that the test checks the wiring, not the
    compiler."""
    import torch._dynamo

    from sepssl import load_model
    from sepssl.models.enhancer import Enhancer
    from sepssl.train import train

    modes = []
    real_compile = torch.compile

    def eager_compile(fn, *args, mode=None, **kwargs):
        modes.append(mode)
        return real_compile(fn, *args, backend="eager", **kwargs)

    monkeypatch.setattr(torch, "compile", eager_compile)
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    cfg = toy_config(toy_set, tmp_path / "r", task="supervised", steps=3,
                     extra=["trainer.compile=reduce-overhead", *GPU_PATH])
    model = load_model(train(cfg))
    torch._dynamo.reset()
    assert modes == ["reduce-overhead"]
    assert torch._dynamo.utils.counters["frames"]["ok"] >= 1        # it traced the network
    assert model.card["steps"] == 3 and model.card["config"]["trainer"]["compile"] == \
        "reduce-overhead"
    plain = Enhancer(cfg.model.model_dump(), sample_rate=cfg.sample_rate)
    assert set(model.state_dict()) == set(plain.state_dict())       # no `_orig_mod.` keys
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_compiled_run_with_cuda_graphs_trains_on_the_gpu(toy_set, tmp_path):
    from sepssl import load_model
    from sepssl.train import train

    cfg = toy_config(toy_set, tmp_path / "r", task="supervised", steps=4,
                     extra=["trainer.compile=reduce-overhead", "trainer.accelerator=gpu",
                            "trainer.precision=bf16-mixed", *GPU_PATH])
    model = load_model(train(cfg))
    assert model.card["steps"] == 4
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


@pytest.mark.parametrize("value, mode", [("off", "off"), ("on", "default"), ("false", "off"),
                                         ("reduce-overhead", "reduce-overhead")])
def test_compile_reads_yaml_switches(toy_set, tmp_path, value, mode):
    assert toy_config(toy_set, tmp_path, extra=[f"trainer.compile={value}"]).trainer.compile == mode
