"""Lifting old payloads to the current shape: one small function per (event type, version step).

Kafka keeps what earlier releases wrote, so a reader meets old shapes for as long as the topic retains them.
Rather than every consumer knowing every shape, `decode` lifts a payload step by step (v1 -> v2 -> ...) and
consumers only ever see the newest class.

When to make a new version: any change other than adding a field with a default (renaming, removing, retyping,
changing meaning). Then: copy the old class to `...V<N>` in `events.types`, register the new one with N+1, add
`upcast_<type>_v<N>_to_v<N+1>` here, commit an example of the old shape under `tests/unit/events/examples/`, and
regenerate the schemas.

An upcaster works on JSON-shaped dicts (what is on the wire). It receives a payload already checked against its
own version's class, so it never sees malformed input, and its output is checked against the next version's class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from events.codec import from_json, to_json
from events.errors import UnsupportedSchemaVersion
from events.types import EventSpec, current_spec, event_spec

type Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def _upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(function: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = function
        return function

    return register


@_upcaster("user.registered", 1)
def upcast_user_registered_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 (an earlier release) had one `name`; v2 calls it `display_name` and always has `avatar_url` and `bio`."""
    lifted = {key: value for key, value in payload.items() if key != "name"}
    lifted["display_name"] = payload["name"]
    lifted.setdefault("avatar_url", None)
    lifted.setdefault("bio", "")
    return lifted


def payload_lift(spec: EventSpec, raw: Any) -> object:
    """The JSON payload `raw`, written at `spec`'s version, as an instance of its type's current class.

    Raises:
        ShapeError: `raw` does not fit its version, or an upcaster's output does not fit the next one.
        UnsupportedSchemaVersion: a step has no upcaster (a registry bug, dead-lettered rather than crashing).
    """
    payload = from_json(raw, spec.payload_class, "payload")
    newest = current_spec(spec.event_type).schema_version
    for version in range(spec.schema_version, newest):
        upcast = UPCASTERS.get((spec.event_type, version))
        if upcast is None:
            raise UnsupportedSchemaVersion(
                f"no upcaster from {spec.event_type} v{version}", event_type=spec.event_type, schema_version=version
            )
        data = upcast(to_json(payload, event_spec(spec.event_type, version).payload_class, "payload"))
        payload = from_json(data, event_spec(spec.event_type, version + 1).payload_class, "payload")
    return payload
