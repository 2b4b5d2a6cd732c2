"""sepssl: self-supervised speech enhancement and separation.

    import sepssl
    model = sepssl.load_model()            # the shipped default enhancer
    clean = model.enhance("noisy.wav")     # or a tensor / numpy array + sample_rate
    sepssl.enhance_file("noisy.wav", "clean.wav")
"""
from .errors import AudioError, ConfigError, DataError, ModelError, SepsslError

__version__ = "0.1.0"


def load_model(name_or_path: str = "default", device: str = "cpu"):
    """Load an enhancer: 'default' (shipped) or a path to a sepssl model/checkpoint file."""
    from .models import load_model as _load

    return _load(name_or_path, device=device)


def enhance_file(src, dst, model="default", device: str = "cpu", **options):
    """Enhance the audio file `src` into `dst` (same rate, length, channels and subtype;
    written atomically), with a model, its name or path. `options`: those of
    `sepssl.enhance.enhance_file` (`chunk_seconds`, `subtype`, `atten_lim_db`). Returns `dst`."""
    from .enhance import enhance_file as _enhance_file

    if not hasattr(model, "enhance"):
        model = load_model(model, device=device)
    return _enhance_file(model, src, dst, **options)


__all__ = ["load_model", "enhance_file", "SepsslError", "AudioError", "ConfigError", "DataError", "ModelError",
           "__version__"]
