"""The names both sides find the read side's state by, and what a document carries for readers.

The names are a contract between processes deployed apart (and with data already stored under them): they are
pinned here, with and without a PROJECTOR_INDEX_PREFIX.
"""

from __future__ import annotations

import pytest

from read_models import keys
from read_models.documents import PRIVATE_FIELDS, VERSION_FIELDS, public_document
from read_models.indices import alias_of, model_of, new_index_name
from read_models.models import AUTHORS, COMMENTS, MODELS_BY_NAME, POSTS, READ_MODELS


def test_without_a_prefix_the_names_are_the_plain_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROJECTOR_INDEX_PREFIX", raising=False)
    assert [alias_of(model) for model in READ_MODELS] == ["posts", "comments", "authors"]
    assert keys.notice_stream() == "{live}:events"
    assert keys.notice_seen_key() == "{live}:events:seen"
    assert keys.freshness_key() == "projector:freshness"
    assert keys.fanout_position_key() == "live:fanout:position"
    assert keys.channel_group() == "live"
    assert keys.holds_index("projector") == "projector-holds-projector"
    assert keys.clock_index() == "projector-clock"


def test_the_prefix_namespaces_every_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", "t1 run:")
    assert alias_of(POSTS) == "t1 run:posts"
    assert alias_of(POSTS, prefix="other-") == "other-posts"
    assert keys.notice_stream() == "t1 run:{live}:events"
    assert keys.notice_seen_key() == "t1 run:{live}:events:seen"
    assert keys.freshness_key() == "t1 run:projector:freshness"
    assert keys.fanout_position_key() == "t1 run:live:fanout:position"
    assert keys.channel_group() == "t1_run_live"  # a channel-layer group name allows only these characters
    assert keys.holds_index("g") == "t1 run:projector-holds-g"
    assert keys.clock_index() == "t1 run:projector-clock"


def hash_slot_tag(key: str) -> str:
    """The part of a key Redis Cluster hashes: the first non-empty `{...}`, else the whole key."""
    start = key.find("{")
    end = key.find("}", start + 1)
    return key[start + 1 : end] if start >= 0 and end > start + 1 else key


def test_the_notice_stream_and_its_dedupe_set_share_a_cluster_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    for prefix in ("", "t1 run:", "qtest-abc-"):
        monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", prefix)
        assert keys.notice_stream() != keys.notice_seen_key()
        assert hash_slot_tag(keys.notice_stream()) == hash_slot_tag(keys.notice_seen_key()) == "live"
        assert keys.notice_stream().startswith(prefix)
        assert keys.notice_seen_key().startswith(prefix)


def test_the_channel_group_name_stays_within_the_channel_layers_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", "p" * 200)
    assert len(keys.channel_group()) == 90


def test_a_physical_index_name_leads_back_to_its_read_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", "t-")
    name = new_index_name(COMMENTS)
    assert name.startswith(f"t-comments-v{COMMENTS.version}-")
    assert model_of(name) is COMMENTS
    with pytest.raises(ValueError, match="is not an index of a read model"):
        model_of("t-unrelated-v1-1")
    with pytest.raises(ValueError, match="is not an index of a read model"):
        model_of(new_index_name(POSTS, prefix="other-"))


def test_every_read_model_is_found_by_its_name() -> None:
    assert MODELS_BY_NAME == {"posts": POSTS, "comments": COMMENTS, "authors": AUTHORS}
    assert tuple(MODELS_BY_NAME.values()) == READ_MODELS


def test_each_aggregate_version_field_is_an_integer_field_of_its_read_model() -> None:
    assert set(VERSION_FIELDS) == {"post", "comment", "user"}
    for name, field in VERSION_FIELDS.values():
        assert MODELS_BY_NAME[name].mappings["properties"][field] == {"type": "integer"}


def test_the_bookkeeping_readers_never_see_is_stored_unindexed_and_left_out_of_public_documents() -> None:
    mapped = {field for model in READ_MODELS for field in model.mappings["properties"]}
    assert set(PRIVATE_FIELDS) <= mapped
    for model in READ_MODELS:
        for field in set(PRIVATE_FIELDS) & set(model.mappings["properties"]):
            mapping = model.mappings["properties"][field]
            assert mapping.get("enabled") is False or mapping.get("index") is False, field
    document = {"id": "1", "post_version": 2, "count_clock": 9, "field_versions": {"title": 2}}
    assert public_document(document) == {"id": "1", "post_version": 2}
    assert public_document(None) is None
