"""sepssl: self-supervised speech enhancement and separation.

    import sepssl
    model = sepssl.load_model()            # the shipped default enhancer
    clean = model.enhance("noisy.wav")     # or a (channels, time) tensor + sample_rate
"""
from .errors import AudioError, ConfigError, DataError, ModelError, SepsslError

__version__ = "0.1.0"


def load_model(name_or_path: str = "default", device: str = "cpu"):
    """Load an enhancer: 'default' (shipped) or a path to a sepssl model/checkpoint file."""
    from .models import load_model as _load

    return _load(name_or_path, device=device)


__all__ = ["load_model", "SepsslError", "AudioError", "ConfigError", "DataError", "ModelError",
           "__version__"]
