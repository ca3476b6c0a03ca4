"""The committed JSON Schemas and AsyncAPI document are exactly what the code generates now."""

from __future__ import annotations

import json
from pathlib import Path

from events import asyncapi, schemas

HOW_TO_FIX = "regenerate with `uv run python -m events.schemas && uv run python -m events.asyncapi`, then commit"


def test_committed_schemas_are_current() -> None:
    assert schemas.stale_files() == [], HOW_TO_FIX


def test_committed_asyncapi_document_is_current() -> None:
    assert asyncapi.DOC_PATH.read_text() == schemas.render(asyncapi.asyncapi_document()), HOW_TO_FIX
    assert asyncapi.main(["--check"]) == 0


def test_a_stale_changed_or_leftover_schema_file_is_detected_and_rewriting_fixes_it(tmp_path: Path) -> None:
    assert schemas.stale_files(tmp_path) == sorted(schemas.schema_files())  # nothing written yet
    schemas.schemas_write(tmp_path)
    assert schemas.stale_files(tmp_path) == []
    edited = tmp_path / "post.published" / "v1.json"
    edited.write_text(edited.read_text().replace('"post_id"', '"postId"'))
    (tmp_path / "post.published" / "v2.json").write_text("{}\n")
    assert schemas.stale_files(tmp_path) == ["post.published/v1.json", "post.published/v2.json"]
    assert schemas.schemas_write(tmp_path) == ["post.published/v1.json", "post.published/v2.json"]
    assert not (tmp_path / "post.published" / "v2.json").exists()
    assert schemas.stale_files(tmp_path) == []


def test_schemas_follow_the_payload_classes() -> None:
    files = schemas.schema_files()
    v1, v2 = files["user.registered/v1.json"], files["user.registered/v2.json"]
    assert v1["required"] == ["user_id", "username", "name"]  # avatar_url and bio were optional in v1
    assert v2["required"] == ["user_id", "username", "display_name", "avatar_url", "bio"]
    assert v2["properties"]["avatar_url"]["type"] == ["string", "null"]
    created = files["post.created/v1.json"]["properties"]
    assert created["tags"] == {"type": "array", "items": {"type": "string"}}
    assert created["author"]["properties"]["user_version"] == {"type": "integer", "minimum": 1}
    assert created["created_at"]["pattern"].endswith("Z$")
    assert json.loads(schemas.render(files["envelope/v1.json"]))["properties"]["envelope_version"]["const"] == 1
