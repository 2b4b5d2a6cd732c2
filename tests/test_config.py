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
    ("task: {snr: 3}", "task.snr"),      # a task section without a name is the default task's
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


@pytest.mark.parametrize("override, key", [
    ("task.loss=sisdr", "task.loss"), ("task.loss=SNR", "task.loss"),
    ("task.snr_db=[0, 5]", "task.snr_db"),           # noisy_target's option is extra_snr_db
    ("data.batch_size=0", "data.batch_size"), ("trainer.max_steps=-5", "trainer.max_steps"),
    ("trainer.max_steps=0", "trainer.max_steps"), ("optim.lr=-1", "optim.lr"),
    ("optim.lr=.inf", "optim.lr"), ("model.hidden=-3", "model.hidden"),
    ("model.hop=4096", "model.hop"), ("task.gain_db=[0, -5]", "task.gain_db"),
    ("trainer.strategy=foo", "trainer.strategy"), ("trainer.devices=abc", "trainer.devices"),
    ("optim.schedule=linear", "optim.schedule"), ("optim.warmup_steps=5000", "optim.warmup_steps"),
])
def test_every_bad_option_is_one_line_naming_its_key(override, key):
    with pytest.raises(ConfigError) as info:
        load_config("recipes/noisy_target/conf.yaml", [override])
    message = str(info.value)
    assert message.startswith(key + ":") and "\n" not in message, message


@pytest.mark.parametrize("overrides, key", [
    (["task.name=mixit", "task.outputs=2", "task.speech_outputs=2"], "task.speech_outputs"),
    (["task.name=mixit", "task.mode=separate", "data.batch_size=3"], "data.batch_size"),
    (["task.name=separation", "data.batch_size=1"], "data.batch_size"),
    (["task.name=remixit"], "task.teacher"),
    (["task.name=pseudose", "task.purification=true"], "task.snr_predictor"),
    (["model.encoder.name=cpcx"], "model.encoder.name"),
    (["model.encoder.name=cpc", "model.encoder.options.channels=-1"], "model.encoder.options.channels"),
    (["model.name=dprnn", "model.rnn_type=TRANSFORMER"], "model.rnn_type"),
])
def test_task_model_and_encoder_options_are_checked_with_the_config(overrides, key):
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides)
    assert str(info.value).startswith(key + ":"), str(info.value)


def test_pretrain_encoder_options_are_typed_and_bounded():
    from sepssl.config import load_pretrain_config

    for override, key in [("encoder.dropout=5.0", "encoder.dropout"),
                          ("encoder.crop_scale=[2, 0.5]", "encoder.crop_scale"),
                          ("encoder.n_mels=0", "encoder.n_mels")]:
        with pytest.raises(ConfigError, match="^" + key.replace(".", r"\.")):
            load_pretrain_config("recipes/byol_a/conf.yaml", [override])


def test_the_dump_is_complete_and_loads_back(tmp_path):
    from sepssl.config import to_yaml

    cfg = load_config("recipes/mixit/conf.yaml")
    (tmp_path / "c.yaml").write_text(to_yaml(cfg.dump()))
    again = load_config(tmp_path / "c.yaml")
    assert again.dump() == cfg.dump() and again.dump()["model"]["dropout"] == 0.0
