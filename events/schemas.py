"""JSON Schemas generated from the payload classes' type hints; `python -m events.schemas` rewrites the files.

The committed files under `events/schemas/` (`envelope/v1.json` and `v2.json`, `<event_type>/v<N>.json` for every
registered version, old ones included) are what other languages and outside subscribers validate against. They are
generated, never edited: a unit test fails when they differ from what the code generates. `--check` only compares.

Schemas are JSON Schema draft-07 (the dialect AsyncAPI 3 embeds) and leave `additionalProperties` open because
readers ignore unknown keys. A class's docstring becomes the description, its `Attributes:` section the field
descriptions.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from events.codec import UTC_TIME_REGEX, hints_of, optional_of, unwrap
from events.envelope import ENVELOPE_VERSION, READABLE_ENVELOPE_VERSIONS, EventEnvelope
from events.types import SPECS, EventSpec

DIALECT = "http://json-schema.org/draft-07/schema#"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_SCALARS = {str: "string", int: "integer", bool: "boolean"}


def schema_for(hint: Any, overrides: Mapping[Any, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON Schema of the JSON values `events.codec` reads and writes for `hint`.

    Args:
        hint: a type hint of the kinds `events.codec` supports.
        overrides: schemas to use for given types instead of generating them (e.g. a `$ref`).
    """
    overrides = overrides or {}
    base, rules = unwrap(hint)
    inner = optional_of(base)
    if inner is not None:
        schema = schema_for(inner, overrides)
        if isinstance(schema.get("type"), str) and "enum" not in schema:
            return {**schema, "type": [schema["type"], "null"]}
        return {"anyOf": [schema, {"type": "null"}]}
    schema = overrides[base] if base in overrides else _plain(base, overrides)
    for rule in rules:
        schema = {**schema, **dict(rule.keywords)}
    return schema


def _plain(base: Any, overrides: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    if base is Any:
        return {}
    if base in _SCALARS:
        return {"type": _SCALARS[base]}
    if base is datetime:
        return {"type": "string", "format": "date-time", "pattern": f"^{UTC_TIME_REGEX}$"}
    if get_origin(base) is Literal:
        return {"type": "string", "enum": list(get_args(base))}
    if get_origin(base) is tuple:
        return {"type": "array", "items": schema_for(get_args(base)[0], overrides)}
    if get_origin(base) is dict:
        return {"type": "object"}
    if dataclasses.is_dataclass(base):
        return _object(base, overrides)
    raise TypeError(f"no schema for type hint {base!r}")


def _object(cls: type, overrides: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    description, field_docs = class_docs(cls)
    properties = {}
    for field in dataclasses.fields(cls):
        prop = schema_for(hints_of(cls)[field.name], overrides)
        properties[field.name] = {"description": field_docs[field.name], **prop} if field.name in field_docs else prop
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    return {"type": "object", "description": description, "properties": properties, "required": required}


def class_docs(cls: type) -> tuple[str, dict[str, str]]:
    """A class docstring's text without its `Attributes:` section, and that section as {field: description}."""
    text = inspect.cleandoc(cls.__doc__ or "")
    body, _, attributes = text.partition("\nAttributes:\n")
    docs: dict[str, str] = {}
    for line in attributes.splitlines():
        match = re.match(r"\s+(\w+): (.*)", line)
        if match:
            docs[match[1]] = match[2][:1].upper() + match[2][1:]
        elif docs and line.strip():
            last = next(reversed(docs))
            docs[last] += " " + line.strip()
    return " ".join(body.split()), docs


def envelope_schema(version: int = ENVELOPE_VERSION) -> dict[str, Any]:
    """The envelope with any payload: what every message on every event topic satisfies.

    Version 2 (written now) adds `subject_id` and the sealed form of a personal payload (`sealed_payload`, instead
    of `payload`); version 1 is what earlier releases wrote, still read.
    """
    schema = schema_for(EventEnvelope)
    payload = {"description": "The event's own fields, as the schema of its type and version says.", "type": "object"}
    envelope_version = {"description": "How to read the envelope itself.", "const": version}
    if version == 1:
        del schema["properties"]["subject_id"]
        schema["properties"] = {"envelope_version": envelope_version, **schema["properties"], "payload": payload}
        schema["required"] = ["envelope_version", *(name for name in schema["required"] if name != "subject_id")]
    else:
        schema["properties"] = {
            "envelope_version": envelope_version,
            **schema["properties"],
            "payload": payload,
            "sealed_payload": {
                "description": "A personal event's payload, sealed under its subject's key (AES-256-GCM: base64 of a "
                "12-byte nonce, the ciphertext of the payload's JSON and the tag; associated data "
                "`event_id|aggregate_type|aggregate_id|aggregate_version`). Unreadable once the subject is erased.",
                "type": "string",
                "contentEncoding": "base64",
            },
        }
        schema["required"] = ["envelope_version", *(name for name in schema["required"] if name != "payload")]
        schema["oneOf"] = [{"required": ["payload"]}, {"required": ["sealed_payload"]}]
    return {"$schema": DIALECT, "title": f"Event envelope v{version}", **schema}


def payload_schema(spec: EventSpec) -> dict[str, Any]:
    """The payload of one event type at one schema version."""
    schema = schema_for(spec.payload_class)
    return {"$schema": DIALECT, "title": f"{spec.event_type} v{spec.schema_version} payload", **schema}


def schema_files() -> dict[str, dict[str, Any]]:
    """Every committed schema by its path relative to `SCHEMA_DIR`."""
    files = {f"envelope/v{version}.json": envelope_schema(version) for version in READABLE_ENVELOPE_VERSIONS}
    files.update((f"{s.event_type}/v{s.schema_version}.json", payload_schema(s)) for s in SPECS.values())
    return files


def render(document: Mapping[str, Any]) -> str:
    """The one text form of a generated JSON document, so regenerating unchanged definitions changes no byte."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def stale_files(root: Path = SCHEMA_DIR) -> list[str]:
    """Paths (relative to `root`) whose content differs from the generated one, or that should not exist."""
    wanted = {path: render(schema) for path, schema in schema_files().items()}
    present = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.json")} if root.exists() else {}
    return sorted(path for path in wanted.keys() | present.keys() if wanted.get(path) != present.get(path))


def schemas_write(root: Path = SCHEMA_DIR) -> list[str]:
    """Rewrite the schema files under `root`, deleting ones no longer generated; returns the paths changed."""
    changed = stale_files(root)
    files = schema_files()
    for path in changed:
        target = root / path
        if path in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(files[path]))
        else:
            target.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    """`python -m events.schemas [--check]`."""
    parser = argparse.ArgumentParser(prog="python -m events.schemas", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that are not current; exit 1 if any")
    args = parser.parse_args(argv)
    changed = stale_files() if args.check else schemas_write()
    for path in changed:
        print(f"{'stale' if args.check else 'wrote'} {SCHEMA_DIR.name}/{path}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
