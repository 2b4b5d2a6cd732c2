import pytest

from sepssl.config import load_config
from sepssl.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_defaults_and_overrides(tmp_path):
    cfg = load_config(write(tmp_path, "task: {name: supervised}\ntrainer: {max_steps: 5}\n"),
                      ["trainer.max_steps=7", "optim.lr=0.01", "data.valid=null", "model.hidden=64"])
    assert cfg.trainer.max_steps == 7 and cfg.optim.lr == 0.01 and cfg.data.valid is None
    assert cfg.task.name == "supervised" and cfg.model.name == "masker" and cfg.model.hidden == 64


@pytest.mark.parametrize("text, key", [
    ("trainer: {max_stepz: 5}", "trainer.max_stepz"),
    ("dataa: {}", "dataa"),
    ("data: {batch_size: many}", "data.batch_size"),
    ("optim: {lr: [1]}", "optim.lr"),
    ("task: {snr: 3}", "task.name"),
])
def test_bad_keys_and_values_are_named(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, text))


def test_int_is_accepted_for_float_but_bool_is_not_int(tmp_path):
    assert load_config(write(tmp_path, "optim: {lr: 1}")).optim.lr == 1.0
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "data: {batch_size: true}"))


def test_exponent_without_a_dot_is_a_float(tmp_path):
    """YAML 1.1 reads 5e-4 as a string; a float field takes it, a word is still an error."""
    assert load_config(write(tmp_path, "optim: {lr: 5e-4}")).optim.lr == 5e-4
    assert load_config(None, ["optim.lr=1e-3"]).optim.lr == 1e-3
    with pytest.raises(ConfigError, match=r"optim\.lr"):
        load_config(None, ["optim.lr=fast"])


def test_bad_override_syntax_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="key=value"):
        load_config(None, ["trainer.max_steps"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
