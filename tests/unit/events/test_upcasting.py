"""Old payload shapes, as committed examples of what earlier releases wrote, are lifted to the current version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from events import UndecodableEvent, decode, encode
from events.types import SPECS, UserRegistered, current_spec
from events.upcasters import UPCASTERS, upcast_user_registered_v1_to_v2

EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.json"))
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "events" / "schemas"
OLD_SPECS = [spec for spec in SPECS.values() if current_spec(spec.event_type) != spec]


def _example(name: str) -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "examples" / name).read_text())


def test_every_old_version_has_a_committed_example_and_an_upcaster_to_the_next() -> None:
    assert OLD_SPECS, "user.registered v1 is an old version"
    shapes = {(e["event_type"], e["schema_version"]) for e in map(lambda p: json.loads(p.read_text()), EXAMPLES)}
    for spec in OLD_SPECS:
        assert (spec.event_type, spec.schema_version) in shapes
        assert (spec.event_type, spec.schema_version) in UPCASTERS
    for event_type, version in UPCASTERS:
        assert (event_type, version + 1) in SPECS  # every upcaster leads to a registered version


def test_versions_of_each_type_run_from_1_without_gaps() -> None:
    for event_type in {spec.event_type for spec in SPECS.values()}:
        versions = sorted(v for t, v in SPECS if t == event_type)
        assert versions == list(range(1, len(versions) + 1))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_committed_examples_are_valid_in_their_own_version(path: Path) -> None:
    example = json.loads(path.read_text())
    envelope_schema = json.loads((SCHEMA_DIR / "envelope" / "v1.json").read_text())
    payload_schema = json.loads((SCHEMA_DIR / example["event_type"] / f"v{example['schema_version']}.json").read_text())
    jsonschema.validate(example, envelope_schema)
    jsonschema.validate(example["payload"], payload_schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_decode_lifts_examples_to_the_current_version_keeping_the_envelope(path: Path) -> None:
    example = json.loads(path.read_text())
    envelope = decode(path.read_bytes())
    current = current_spec(example["event_type"])
    assert envelope.schema_version == current.schema_version > example["schema_version"]
    assert type(envelope.payload) is current.payload_class
    assert (envelope.event_id, envelope.aggregate_id, envelope.aggregate_version, envelope.causation_id) == (
        example["event_id"], example["aggregate_id"], example["aggregate_version"], example["causation_id"],
    )  # fmt: skip
    assert decode(encode(envelope)) == envelope  # a lifted event is written in the current shape


def test_a_minimal_v1_registration_gets_display_name_and_default_profile() -> None:
    payload = decode(json.dumps(_example("user.registered.v1.minimal.json")).encode()).payload
    assert payload == UserRegistered(user_id="17", username="ada", display_name="Ada Lovelace", avatar_url=None, bio="")


def test_a_full_v1_registration_keeps_its_avatar_and_bio() -> None:
    payload = decode(json.dumps(_example("user.registered.v1.full.json")).encode()).payload
    assert payload == UserRegistered(
        user_id="42",
        username="grace",
        display_name="Grace Hopper",
        avatar_url="https://example.org/avatars/grace.png",
        bio="Compilers, COBOL, nanoseconds.",
    )


def test_the_upcaster_alone_maps_name_and_fills_the_new_fields() -> None:
    assert upcast_user_registered_v1_to_v2({"user_id": "1", "username": "u", "name": "N"}) == {
        "user_id": "1", "username": "u", "display_name": "N", "avatar_url": None, "bio": "",
    }  # fmt: skip
    full = {"user_id": "1", "username": "u", "name": "N", "avatar_url": "a", "bio": "b"}
    assert upcast_user_registered_v1_to_v2(full)["avatar_url"] == "a"
    assert "name" not in upcast_user_registered_v1_to_v2(full)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [("name", 7, "payload.name: must be a string"), ("name", ..., "payload.name: is missing")],
)
def test_a_malformed_old_payload_is_undecodable_in_its_own_terms(field: str, value: Any, reason: str) -> None:
    example = _example("user.registered.v1.minimal.json")
    if value is ...:
        del example["payload"][field]
    else:
        example["payload"][field] = value
    with pytest.raises(UndecodableEvent, match=reason):
        decode(json.dumps(example).encode())
