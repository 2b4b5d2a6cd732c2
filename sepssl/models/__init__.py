"""Enhancers and separators: the registry of networks, the inference rule, the `Enhancer`."""
from .enhancer import Enhancer, load_model
from .inference import InferenceRule
from .masker import STFTMasker
from .registry import MODELS, build_model

__all__ = ["build_model", "Enhancer", "InferenceRule", "load_model", "STFTMasker", "MODELS"]
