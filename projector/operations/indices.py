"""Physical indices and their aliases: fresh builds beside the live read models, the atomic swap, rollback.

What operations do to the indices: create fresh ones for a rebuild (with bulk-load settings, restored before they
serve) and swap the aliases to them, record where indices left behind by a swap stopped receiving writes, and the
operator's list / delete. Moving aliases back (`indices use`) is a swap like any other and goes through
`projector.operations.rebuild.use`, which catches the indices up first. The live ones are created at start-up by
the consumer (`projector.consumer.live_indices`); the names are the contract's (`read_models.indices`).

Where a left-behind index's position is kept: in the index's own mapping `_meta` (`record_stop`), not in a
bookkeeping index. The position describes the index, so it lives and dies with it: deleting the index deletes it,
no record can outlive its index or name one that is gone, a restored snapshot of the index brings it along, and
nothing else (the holds index, a consumer group) has to exist for a rollback to know where to start. `_meta` is
stored, never indexed, and changing it with put_mapping is allowed on a strict mapping and needs no reindex.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kafka import TopicPartition
from opensearchpy import OpenSearch

from read_models.indices import alias_of, model_of, new_index_name
from read_models.models import READ_MODELS

# A build writes with these, then `restore_settings` gives the index its model's own before it verifies or serves.
BULK_SETTINGS = {"refresh_interval": "-1", "number_of_replicas": 0}
STOP_META = "projector_stopped_at"  # the `_meta` key of the position an index stopped receiving writes from


def create_indices(client: OpenSearch, prefix: str | None = None, *, bulk: bool = False) -> dict[str, str]:
    """Create a new physical index per read model; returns {model name: index name}.

    Args:
        client: the OpenSearch client.
        prefix: the index prefix (default: PROJECTOR_INDEX_PREFIX).
        bulk: create them with bulk-load settings (`BULK_SETTINGS`: no periodic refresh, no replicas), for a build;
            `restore_settings` undoes them.
    """
    names = {}
    for model in READ_MODELS:
        name = new_index_name(model, prefix)
        body = model.body()
        if bulk:
            body = {**body, "settings": {**body["settings"], **BULK_SETTINGS}}
        client.indices.create(index=name, body=body)
        names[model.name] = name
    return names


def normal_settings(model_name: str) -> dict[str, Any]:
    """The values of the bulk-load settings an index of the read model serves with: its `ReadModel.body()`'s, and
    OpenSearch's default for one the body leaves out (None resets a setting to its default)."""
    model = next(model for model in READ_MODELS if model.name == model_name)
    settings = model.body()["settings"]
    return {name: settings.get(name) for name in BULK_SETTINGS}


def restore_settings(client: OpenSearch, indices: dict[str, str]) -> None:
    """Give every index ({model name: index}) its model's normal refresh interval and replicas, then refresh it."""
    for model_name, index in indices.items():
        client.indices.put_settings(index=index, body={"index": normal_settings(model_name)})
    client.indices.refresh(index=",".join(indices.values()))


def indices_behind(client: OpenSearch, prefix: str | None = None) -> dict[str, str]:
    """{model name: the physical index its alias points at now}."""
    out = {}
    for model in READ_MODELS:
        alias = alias_of(model, prefix)
        out[model.name] = next(iter(client.indices.get_alias(name=alias)))
    return out


def swap_aliases(client: OpenSearch, new: dict[str, str], prefix: str | None = None) -> dict[str, str]:
    """Point every alias at the new indices in one atomic request; returns the previous indices (for rollback)."""
    old = indices_behind(client, prefix)
    actions = []
    for model in READ_MODELS:
        alias = alias_of(model, prefix)
        actions += [
            {"remove": {"index": old[model.name], "alias": alias}},
            {"add": {"index": new[model.name], "alias": alias}},
        ]
    client.indices.update_aliases(body={"actions": actions})
    return old


def wanted_indices(client: OpenSearch, names: list[str], prefix: str | None = None) -> dict[str, str]:
    """{model name: index} the aliases would point at after `indices use NAMES`: the named ones, the others as now."""
    wanted = {model_of(name, prefix).name: name for name in names}
    missing = [name for name in wanted.values() if not client.indices.exists(index=name)]
    if missing:
        raise ValueError(f"no such index: {' '.join(missing)}")
    return {**indices_behind(client, prefix), **wanted}


def record_stop(client: OpenSearch, indices: list[str], group: str, offsets: dict[TopicPartition, int]) -> None:
    """Store in each index's `_meta` the position from which it stops receiving writes (see the module docstring).

    `offsets` are the live group's committed offsets read just before the aliases move: every event before them is
    in the index (the live projector commits a batch only after writing it), events from them on may not be.
    Other `_meta` entries are kept (put_mapping replaces `_meta` as a whole).
    """
    by_topic: dict[str, dict[str, int]] = {}
    for tp, offset in sorted(offsets.items()):
        by_topic.setdefault(tp.topic, {})[str(tp.partition)] = offset
    record = {"group": group, "recorded_at": datetime.now(UTC).isoformat(), "offsets": by_topic}
    for index in indices:
        meta = next(iter(client.indices.get_mapping(index=index).values()))["mappings"].get("_meta", {})
        client.indices.put_mapping(index=index, body={"_meta": {**meta, STOP_META: record}})


def recorded_stop(client: OpenSearch, index: str) -> dict[TopicPartition, int] | None:
    """The position `record_stop` stored for an index; None when it has none (an index from before positions were
    recorded, or one that was never left behind by a swap)."""
    meta = next(iter(client.indices.get_mapping(index=index).values()))["mappings"].get("_meta", {})
    record = meta.get(STOP_META)
    if record is None:
        return None
    return {
        TopicPartition(topic, int(partition)): int(offset)
        for topic, partitions in record["offsets"].items()
        for partition, offset in partitions.items()
    }


def list_indices(client: OpenSearch, prefix: str | None = None) -> list[tuple[str, str, int, bool]]:
    """(model, index, documents, live) for every physical index of every read model."""
    live = set(indices_behind(client, prefix).values())
    rows = []
    for model in READ_MODELS:
        pattern = f"{alias_of(model, prefix)}-v*"
        for row in client.cat.indices(index=pattern, format="json", h="index,docs.count"):
            rows.append((model.name, row["index"], int(row["docs.count"] or 0), row["index"] in live))
    return sorted(rows)


def delete_indices(client: OpenSearch, names: list[str], prefix: str | None = None) -> None:
    """Delete old read-model indices; refuses any index an alias still points at."""
    live = set(indices_behind(client, prefix).values())
    for name in names:
        model_of(name, prefix)
        if name in live:
            raise ValueError(f"{name} is live (an alias points at it): swap away from it first")
    for name in names:
        client.indices.delete(index=name)
