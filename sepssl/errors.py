"""Errors a user can cause. The CLI prints them as one line and exits non-zero."""


class SepsslError(Exception):
    """Base class: the message says what went wrong and what to do."""


class AudioError(SepsslError):
    """A file that cannot be used as audio input (missing, unreadable, empty, silent, NaN)."""


class ConfigError(SepsslError):
    """A configuration that cannot be used (unknown key, wrong type, missing value)."""


class ModelError(SepsslError):
    """A model file that cannot be loaded."""


class DataError(SepsslError):
    """A data folder or manifest that cannot be used."""
