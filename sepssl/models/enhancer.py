"""`Enhancer`: a trained network plus what inference needs (which outputs are speech, the
sample rate, an optional Noisier2Noise correction, MixIT's optional speech detector), saved as
one weights-only file.

Model files hold tensors and plain Python values only and load with
`torch.load(weights_only=True)`: a model file someone sends a user can never run code.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import AudioError, ConfigError, ModelError, SepsslError
from ..files import check_format, first_line, load_weights_file, save_weights_file
from .inference import InferenceRule
from .registry import MODELS, build_model

FORMAT = "sepssl-model/1"
PRETRAINED = Path(__file__).resolve().parent.parent / "pretrained"


class Enhancer(nn.Module):
    """Maps noisy `(batch, time)` audio at `sample_rate` to enhanced speech `(batch, time)`.

    Args:
        model: the network's options (`{"name": "masker", ...}`, validated by the registry).
        rule: which outputs are speech and how they are combined (the task's
            `inference_rule()`; default: output 0 of a one-output network).
        sample_rate: the rate the network runs at.
        card: what the model file says about how it was trained.
        atten_lim_db: inference only: `enhance` mixes the input back so that nothing is
            attenuated by more than this (None: off).
    """

    def __init__(self, model: dict[str, Any], rule: InferenceRule | None = None,
                 sample_rate: int = 16000, card: dict[str, Any] | None = None,
                 atten_lim_db: float | None = None):
        super().__init__()
        options = MODELS.parse(model, "model.")
        self.rule = rule if rule is not None else InferenceRule()
        detector = self.rule.detector
        if detector is not None and detector.sample_rate != sample_rate:
            raise ConfigError(f"task.speech_detector: the detector runs at {detector.sample_rate} "
                              f"Hz, the model at {sample_rate} Hz; train one at the model's rate")
        self.net = build_model(options, n_outputs=self.rule.n_outputs, sample_rate=sample_rate)
        spec = options.model_dump(exclude={"name"})
        if getattr(self.net, "encoder_spec", None) is not None:
            # an SSL front-end: record what rebuilds it (not the file it was loaded from)
            spec["encoder"] = self.net.encoder_spec
        self.spec = {"name": options.name, "kwargs": spec}
        self.sample_rate = sample_rate
        self.atten_lim_db = atten_lim_db
        self.card = dict(card or {})

    # the rule's settings, read (and, for experiments, set) through the enhancer
    n_outputs = property(lambda self: self.rule.n_outputs)
    speech_outputs = property(lambda self: self.rule.speech_outputs)
    mixture_consistency = property(lambda self: self.rule.mixture_consistency)
    detector = property(lambda self: self.rule.detector,
                        lambda self, value: setattr(self.rule, "detector", value))
    correction_alpha = property(lambda self: self.rule.correction_alpha,
                                lambda self, value: setattr(self.rule, "correction_alpha", value))

    def separate(self, wav: torch.Tensor) -> torch.Tensor:
        """All outputs `(batch, n_outputs, time)`, projected to sum to the input if the model
        was trained with mixture consistency. Training and inference both go through here."""
        return self.rule.consistent(self.net(wav), wav)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """Enhanced speech `(batch, time)` from `(batch, time)`: the network, then its rule."""
        return self.rule(self.separate(wav), wav)

    @torch.no_grad()
    def enhance(self, audio, sample_rate: int | None = None, chunk_seconds: float = 10.0,
                atten_lim_db: float | str | None = "model"):
        """Enhance a file, a tensor or a numpy array; long signals are processed in chunks.

        Args:
            audio: a file path, or a signal `(time,)` or `(channels, time)`: a torch tensor or
                numpy array, float (in [-1, 1]) or integer PCM (int16 / int32, scaled).
            sample_rate: the signal's rate in Hz (default for signals: the model's); a file's
                rate is read from it.
            chunk_seconds: the length of the chunks long signals are cut into.
            atten_lim_db: attenuate nothing by more than this many dB
                (`dsp.mixing.limit_attenuation`); "model": this model's own setting; None: none.
        Returns:
            For a signal: the same type, shape and dtype as `audio` (numpy in, numpy out); for a
            file: a float tensor `(channels, time)` at the file's rate.
        Raises:
            AudioError: a signal of another shape (3-D, or what looks like `(time, channels)`),
                an unsupported dtype, or a sample rate that is not a positive number of Hz.
        """
        from ..audio import read
        from ..enhance import enhance_signal

        if isinstance(audio, (str, os.PathLike)):
            wav, rate = read(audio)
            return enhance_signal(self, wav, rate, chunk_seconds, atten_lim_db)
        wav, restore = _as_signal(audio)
        rate = self.sample_rate if sample_rate is None else sample_rate
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            raise AudioError(f"sample_rate: {sample_rate!r} is not a positive number of Hz")
        return restore(enhance_signal(self, wav, rate, chunk_seconds, atten_lim_db))

    def with_speech_detector(self, detector: nn.Module) -> "Enhancer":
        """This model with MixIT's speech detector in its rule: inference then adds every
        output that is not speech, weighted by its speech probability.

        Raises:
            ModelError: every output is already speech (nothing for the detector to choose).
        """
        if self.n_outputs <= len(self.speech_outputs):
            raise ModelError("every output of this model is already speech; a speech detector "
                             "has nothing to choose")
        rule = InferenceRule(self.n_outputs, self.speech_outputs, self.mixture_consistency,
                             self.correction_alpha, detector)
        enh = Enhancer(self.to_dict()["model"], rule=rule, sample_rate=self.sample_rate,
                       card=self.card, atten_lim_db=self.atten_lim_db)
        enh.net.load_state_dict(self.net.state_dict())
        return enh.eval()

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "model": {"name": self.spec["name"], **self.spec["kwargs"]},
                **self.rule.to_dict(), "sample_rate": self.sample_rate,
                "atten_lim_db": self.atten_lim_db, "card": self.card,
                "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()}}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model as a weights-only file, atomically; returns its path."""
        return save_weights_file(self.to_dict(), path)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Enhancer":
        enh = cls(data["model"], rule=InferenceRule.from_dict(data),
                  sample_rate=data["sample_rate"], card=data.get("card"),
                  atten_lim_db=data.get("atten_lim_db"))
        enh.net.load_state_dict(data["state_dict"])
        return enh.eval()


_PCM_SCALE = {torch.int16: 32768.0, torch.int32: 2147483648.0}


def _as_signal(audio) -> tuple[torch.Tensor, Any]:
    """A user's signal as float32 `(channels, time)` and the function that turns a result of
    that shape back into the user's type, shape and dtype."""
    import numpy as np

    is_numpy = isinstance(audio, np.ndarray)
    if not is_numpy and not isinstance(audio, torch.Tensor):
        raise AudioError(f"expected a file path, a torch tensor or a numpy array, got "
                         f"{type(audio).__name__}")
    tensor = torch.from_numpy(np.ascontiguousarray(audio)) if is_numpy else audio
    if tensor.dim() not in (1, 2):
        raise AudioError(f"expected a signal of shape (time,) or (channels, time), got "
                         f"{tuple(tensor.shape)}")
    if tensor.dim() == 2 and tensor.shape[0] > tensor.shape[1]:
        raise AudioError(f"a signal of shape {tuple(tensor.shape)} looks like (time, channels); "
                         "pass (channels, time), e.g. the transpose")
    dtype = tensor.dtype
    if dtype in _PCM_SCALE:
        wav = tensor.float() / _PCM_SCALE[dtype]
    elif dtype.is_floating_point:
        wav = tensor.float()
    else:
        raise AudioError(f"samples of type {dtype} are not audio; use float, int16 or int32")
    squeeze = wav.dim() == 1
    wav = wav[None] if squeeze else wav

    def restore(out: torch.Tensor):
        out = out[0] if squeeze else out
        if dtype in _PCM_SCALE:
            scale = _PCM_SCALE[dtype]
            out = (out * scale).round().clamp(-scale, scale - 1).to(dtype)
        else:
            out = out.to(dtype)
        return out.numpy() if is_numpy else out.to(tensor.device)

    return wav.to(tensor.device), restore


#: The models shipped inside the package, by name: `sepssl/pretrained/<name>.pt`
#: (sepssl/pretrained/MODEL_CARD.md says how each was trained).
SHIPPED = ("default", "noclean")


def model_file(name_or_path: str | os.PathLike = "default") -> Path:
    """The file a model name stands for: a shipped model's file for a name in `SHIPPED`,
    else the path itself."""
    name = str(name_or_path)
    return PRETRAINED / f"{name}.pt" if name in SHIPPED else Path(name_or_path)


def load_model(name_or_path: str | os.PathLike = "default", device: str = "cpu") -> Enhancer:
    """An enhancer from a model file, checked as it loads.

    Args:
        name_or_path: a shipped model's name ("default"; "noclean": trained without clean
            speech), a sepssl model file (.pt) or a checkpoint of `sepssl train` (.ckpt).
        device: where to put it ("cpu", "cuda", "cuda:1").
    Returns:
        The `Enhancer`, in eval mode.
    Raises:
        ModelError: missing file, not a sepssl model, options or weights that do not match.
    """
    shipped = str(name_or_path) in SHIPPED
    path = model_file(name_or_path)
    data = load_weights_file(path, "model", " (the package was installed without its model "
                             "file)" if shipped else "")
    if isinstance(data, dict) and "sepssl_model" in data:  # a Lightning checkpoint from `sepssl train`
        meta = data["sepssl_model"]
        prefix = "enhancer.net."
        data = {**meta, "state_dict": {k[len(prefix):]: v for k, v in data["state_dict"].items()
                                       if k.startswith(prefix)}}
    check_format(data, path, FORMAT, "model")
    rate = data.get("sample_rate")
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise ModelError(f"{path}: its sample_rate {rate!r} is not a positive number of Hz")
    try:
        enh = Enhancer.from_dict(data)
    except SepsslError as exc:
        raise ModelError(f"{path}: {exc}") from None
    except Exception as exc:
        raise ModelError(f"{path}: weights do not match the model it describes "
                         f"({first_line(exc)})") from None
    try:
        return enh.to(device)
    except Exception as exc:
        raise ModelError(f"cannot move the model to device {device!r} ({first_line(exc)})") from None
