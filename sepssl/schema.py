"""The building blocks of sepssl's config schema, and one registry style for tasks, models and
encoders.

Every section of a recipe (and every task's, model's and encoder's options) is a pydantic v2
model that forbids unknown keys, with typed, range-checked fields. pydantic over a hand-written
validator: it gives discriminated unions (`task.name` picks the task's options), constrained
numbers, `Literal` choices and a JSON-able dump for free, and its errors carry the path of the
offending key, which `config_error` turns into sepssl's one-line `ConfigError`.

Numbers are strict (`true` is not an int, `2.5` is not a count, `.inf` and `.nan` are not
values), except that a string that spells a float is taken as that float: YAML 1.1 reads `5e-4`
(no dot) as a string.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Callable, Generic, Literal, TypeVar, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict,
                      ValidationError)

from .errors import ConfigError


def _yaml_float(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


_finite = Field(allow_inf_nan=False)
Int = Annotated[int, Strict()]
Float = Annotated[float, BeforeValidator(_yaml_float), Strict(), _finite]
PositiveInt = Annotated[int, Strict(), Field(gt=0)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
PositiveFloat = Annotated[float, BeforeValidator(_yaml_float), Strict(), _finite, Field(gt=0)]
NonNegativeFloat = Annotated[float, BeforeValidator(_yaml_float), Strict(), _finite, Field(ge=0)]
Fraction = Annotated[float, BeforeValidator(_yaml_float), Strict(), _finite, Field(ge=0, lt=1)]
Probability = Annotated[float, BeforeValidator(_yaml_float), Strict(), _finite, Field(ge=0, le=1)]


def _ordered(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] > pair[1]:
        raise ValueError(f"expected [low, high] with low <= high, got {list(pair)}")
    return pair


Range = Annotated[tuple[Float, Float], AfterValidator(_ordered)]
"""A `[low, high]` pair of numbers with low <= high (an SNR or gain range in dB)."""


class Options(BaseModel):
    """A section of options: unknown keys are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


# location parts pydantic adds for union members and validators, not keys of the config
_UNION_PART = re.compile(r"^(int|str|float|bool|none|list\[.*|tuple\[.*|dict\[.*|literal\[.*|"
                         r"constrained-.*|function-.*|lax-.*|strict-.*|json-.*|.*\[.*\].*)$")


def config_error(exc: ValidationError, prefix: str = "", tags: tuple[str, ...] = ()) -> ConfigError:
    """One-line `ConfigError` from a pydantic error: the dotted key, what is wrong, the value.

    Args:
        exc: the validation error.
        prefix: prepended to the key (e.g. "model.encoder.").
        tags: location parts that are union tags (task / model names), dropped from the key.
    """
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = [str(p) for p in first["loc"] if str(p) not in tags and not _UNION_PART.match(str(p))]
    key = prefix + ".".join(loc) if loc else prefix.rstrip(".")
    kind, msg = first["type"], first["msg"]
    if kind == "extra_forbidden":
        msg = "unknown key"
    elif kind == "union_tag_invalid":
        key = f"{key}.name"
        expected = first.get("ctx", {}).get("expected_tags", "")
        msg = f"unknown name {first['input'].get('name')!r}; choose one of {expected}"
    elif kind == "union_tag_not_found":
        key, msg = f"{key}.name", "missing"
    elif kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        if re.match(r"^[a-z_]+(\.[a-z_]+)+: ", msg):   # the check named the key itself
            key = ""
    value = first.get("input")
    shown = "" if kind in ("extra_forbidden", "union_tag_invalid", "union_tag_not_found",
                           "missing", "value_error") or isinstance(value, dict) else f" (got {value!r})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(f"{key}: {msg}{shown}{more}" if key else f"{msg}{shown}{more}")


def validate(cls: type[Options], raw: Any, prefix: str = "", tags: tuple[str, ...] = ()) -> Any:
    """`cls.model_validate(raw)`, with errors as one-line ConfigErrors naming the key."""
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise config_error(exc, prefix, tags) from None


T = TypeVar("T")


class Registry(Generic[T]):
    """Names → (builder, options class), the one registry style of tasks, models, encoders.

    Each options class has a field `name: Literal["<its name>"]`, so the registered classes make
    a union discriminated by `name` (`union()`), what the config schema uses.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._builders: dict[str, T] = {}
        self._options: dict[str, type[Options]] = {}

    def register(self, name: str, options: type[Options]) -> Callable[[T], T]:
        """Decorator: register `builder` under `name` with its options class."""
        def add(builder: T) -> T:
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._builders[name], self._options[name] = builder, options
            return builder
        return add

    def names(self) -> list[str]:
        return sorted(self._builders)

    def __contains__(self, name: str) -> bool:
        return name in self._builders

    def __iter__(self):
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._builders)

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def get(self, name: str) -> T:
        """The builder of `name`; a ConfigError listing the known names if there is none."""
        if name not in self._builders:
            raise ConfigError(f"{self.kind}.name: unknown {self.kind} {name!r}; "
                              f"choose one of {self.names()}")
        return self._builders[name]

    def options(self, name: str) -> type[Options]:
        self.get(name)
        return self._options[name]

    def parse(self, raw: Any, prefix: str | None = None) -> Options:
        """Validate a `{name: ..., **options}` mapping into the named options class."""
        prefix = f"{self.kind}." if prefix is None else prefix
        if isinstance(raw, Options):
            return raw
        if not isinstance(raw, dict):
            raise ConfigError(f"{prefix.rstrip('.')}: expected a mapping, got {raw!r}")
        if "name" not in raw:
            raise ConfigError(f"{prefix}name: missing; choose one of {self.names()}")
        if raw["name"] not in self._builders:
            raise ConfigError(f"{prefix}name: unknown {self.kind} {raw['name']!r}; "
                              f"choose one of {self.names()}")
        return validate(self._options[raw["name"]], raw, prefix)

    def union(self) -> Any:
        """The registered options classes as a union discriminated by `name`."""
        classes = tuple(self._options[n] for n in self.names())
        if len(classes) == 1:
            return classes[0]
        return Annotated[Union[classes], Field(discriminator="name")]


__all__ = ["Options", "Registry", "Range", "Int", "Float", "PositiveInt", "NonNegativeInt",
           "PositiveFloat", "NonNegativeFloat", "Fraction", "Probability", "Literal", "config_error",
           "validate"]
