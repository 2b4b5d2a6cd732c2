"""Enhancers and separators: the registry of networks and the `Enhancer` that wraps one."""
from .enhancer import Enhancer, load_model
from .masker import STFTMasker
from .registry import MODELS, build_model

__all__ = ["build_model", "Enhancer", "load_model", "STFTMasker", "MODELS"]
