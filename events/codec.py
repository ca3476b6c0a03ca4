"""Python values <-> JSON values, driven by type hints: the one place that decides how a field looks on the wire.

Payloads, the envelope and the stream frames are plain type-hinted dataclasses. `to_json` (writing) and
`from_json` (reading) walk the same hints, and `events.schemas` turns those hints into JSON Schemas, so the code,
the wire format and the published schemas cannot drift apart.

Supported hints: `str`, `int`, `bool`, `datetime`, `X | None`, `tuple[X, ...]` (a JSON array), `Literal[...]`,
`dict[str, Any]` (any JSON object), `Any`, nested dataclasses, and `Annotated[X, Rule(...)]` for a constraint that
means the same in JSON Schema and in Python. Reading is strict about types (no `"1"` for 1, no `true` for 1) but
ignores object keys it does not know (tolerant reader: a producer may add an optional field without a lock-step
deploy of every consumer). A missing key is an error unless its field has a default.

Times are UTC only and written one way, `YYYY-MM-DDTHH:MM:SS.ffffffZ`; reading accepts 0 to 6 fraction digits
but nothing except the `Z` suffix, so "is this UTC?" never depends on the reader's parsing.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

UUID_REGEX = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UTC_TIME_REGEX = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z"


class ShapeError(ValueError):
    """A value does not fit its type hint; the message starts with the path of the offending field."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


@dataclasses.dataclass(frozen=True)
class Rule:
    """A constraint with the same meaning in both worlds: JSON Schema `keywords` and a Python `check`."""

    keywords: tuple[tuple[str, Any], ...]
    check: Callable[[Any], bool]
    meaning: str


def regex_rule(regex: str, meaning: str, *extra: tuple[str, Any]) -> Rule:
    """A rule that a string matches `regex` entirely."""
    # Python's `$` also matches before a trailing newline, so Python uses fullmatch and the schema anchors.
    return Rule((*extra, ("pattern", f"^{regex}$")), lambda v: re.fullmatch(regex, v) is not None, meaning)


Id = Annotated[str, Rule((("minLength", 1),), lambda v: len(v) > 0, "must not be empty")]
Version = Annotated[int, Rule((("minimum", 1),), lambda v: v >= 1, "must be 1 or more")]
Uuid = Annotated[str, regex_rule(UUID_REGEX, "must be a lowercase hyphenated UUID", ("format", "uuid"))]


@functools.cache
def hints_of(cls: type) -> dict[str, Any]:
    """The resolved type hints of a dataclass, metadata included (cached: they never change at run time)."""
    return get_type_hints(cls, include_extras=True)


def unwrap(hint: Any) -> tuple[Any, list[Rule]]:
    """Split `Annotated[X, Rule...]` into X and its rules."""
    if get_origin(hint) is Annotated:
        base, *meta = get_args(hint)
        return base, [m for m in meta if isinstance(m, Rule)]
    return hint, []


def optional_of(hint: Any) -> Any | None:
    """X for a hint `X | None`, else None."""
    if get_origin(hint) in (Union, UnionType):
        rest = [a for a in get_args(hint) if a is not NoneType]
        if len(rest) != 1 or len(get_args(hint)) != 2:
            raise TypeError(f"only `X | None` unions are supported, not {hint}")
        return rest[0]
    return None


def to_json(value: Any, hint: Any, path: str = "$") -> Any:
    """`value` as a JSON-ready value, after checking that it fits `hint` (raises ShapeError)."""
    return _convert(value, hint, path, reading=False)


def from_json(value: Any, hint: Any, path: str = "$") -> Any:
    """The Python value a parsed JSON `value` stands for under `hint` (raises ShapeError)."""
    return _convert(value, hint, path, reading=True)


def reader_of(hint: Any) -> Callable[[Any, str], Any]:
    """`from_json` for one hint, worked out once: call it with (value, path) on a hot path."""
    return _converter(hint, True)


def utc_time_text(value: datetime) -> str:
    """The one way a time is written: UTC, microseconds, `Z`."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


type Converter = Callable[[Any, str], Any]  # (value, path) -> the converted value; raises ShapeError


def _convert(value: Any, hint: Any, path: str, *, reading: bool) -> Any:
    return _converter(hint, reading)(value, path)


@functools.cache
def _converter(hint: Any, reading: bool) -> Converter:
    """The conversion `hint` stands for, worked out once per hint and direction (the hot path runs it per value)."""
    base, rules = unwrap(hint)
    inner = optional_of(base)
    if inner is not None:
        convert_inner = _converter(inner, reading)
        return lambda value, path: None if value is None else convert_inner(value, path)
    plain = _plain_converter(base, reading)
    if not rules:
        return plain

    def checked(value: Any, path: str) -> Any:
        result = plain(value, path)
        for rule in rules:
            if not rule.check(result):
                raise ShapeError(path, rule.meaning)
        return result

    return checked


def _not_null(convert: Converter) -> Converter:
    def converter(value: Any, path: str) -> Any:
        if value is None:
            raise ShapeError(path, "must not be null")
        return convert(value, path)

    return converter


def _plain_converter(base: Any, reading: bool) -> Converter:
    origin = get_origin(base)
    if base is Any:
        return lambda value, path: value
    if base is bool:
        return _not_null(lambda value, path: _expect(value, type(value) is bool, path, "must be a boolean"))
    if base is int:
        return _not_null(lambda value, path: _expect(value, type(value) is int, path, "must be an integer"))
    if base is str:
        return _not_null(_string)
    if base is datetime:
        return _not_null(_read_time if reading else _write_time)
    if origin is Literal:
        allowed = get_args(base)
        problem = f"must be one of {list(allowed)}"
        return _not_null(lambda value, path: _expect(value, type(value) in (str, int) and value in allowed, path,
                                                     problem))  # fmt: skip
    if origin is tuple:
        item, ellipsis = get_args(base)
        if ellipsis is not ...:
            raise TypeError(f"only tuple[X, ...] is supported, not {base!r}")
        return _not_null(_array(_converter(item, reading), reading))
    if origin is dict:
        return _not_null(_free_object)
    if dataclasses.is_dataclass(base):
        return _not_null(_object_reader(base) if reading else _object_writer(base))
    raise TypeError(f"unsupported type hint {base!r}")


def _string(value: Any, path: str) -> str:
    _expect(value, isinstance(value, str), path, "must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ShapeError(path, "must be valid Unicode (no lone surrogates)") from None
    return value


def _array(convert_item: Converter, reading: bool) -> Converter:
    accepted = list if reading else list | tuple

    def converter(value: Any, path: str) -> Any:
        _expect(value, isinstance(value, accepted), path, "must be an array")
        items = [convert_item(v, f"{path}[{n}]") for n, v in enumerate(value)]
        return tuple(items) if reading else items

    return converter


def _free_object(value: Any, path: str) -> dict[str, Any]:
    _expect(value, isinstance(value, dict) and all(isinstance(k, str) for k in value), path, "must be an object")
    return value


def _expect(value: Any, ok: bool, path: str, problem: str) -> Any:
    if not ok:
        raise ShapeError(path, f"{problem}, got {type(value).__name__}")
    return value


def _read_time(value: Any, path: str) -> datetime:
    _expect(value, isinstance(value, str), path, "must be a UTC time string")
    if re.fullmatch(UTC_TIME_REGEX, value) is None:
        raise ShapeError(path, f"must be a UTC time like 2024-01-31T12:00:00.000000Z, got {value[:40]!r}")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ShapeError(path, f"is not a valid time: {exc}") from None


def _write_time(value: Any, path: str) -> str:
    _expect(value, isinstance(value, datetime), path, "must be a datetime")
    if value.utcoffset() != timedelta(0):
        raise ShapeError(path, "must be a timezone-aware UTC datetime")
    return utc_time_text(value)


def _object_reader(cls: type) -> Converter:
    fields: list[tuple[str, bool, Converter]] | None = None  # (name, required, converter), worked out on first use

    def read(value: Any, path: str) -> Any:
        nonlocal fields
        if fields is None:
            hints = hints_of(cls)
            fields = [
                (f.name, f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                 _converter(hints[f.name], True))
                for f in dataclasses.fields(cls)
            ]  # fmt: skip
        _expect(value, isinstance(value, dict), path, "must be an object")
        kwargs = {}
        for name, required, convert in fields:
            if name in value:
                kwargs[name] = convert(value[name], f"{path}.{name}")
            elif required:
                raise ShapeError(f"{path}.{name}", "is missing")
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise ShapeError(path, str(exc)) from None

    return read


def _object_writer(cls: type) -> Converter:
    fields: list[tuple[str, Converter]] | None = None  # (name, converter), worked out on first use

    def write(value: Any, path: str) -> dict[str, Any]:
        nonlocal fields
        if fields is None:
            hints = hints_of(cls)
            fields = [(f.name, _converter(hints[f.name], False)) for f in dataclasses.fields(cls)]
        _expect(value, isinstance(value, cls), path, f"must be a {cls.__name__}")
        return {name: convert(getattr(value, name), f"{path}.{name}") for name, convert in fields}

    return write
