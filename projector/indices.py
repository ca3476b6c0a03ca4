"""Physical indices and their aliases: the live read models, fresh builds beside them, the atomic swap."""

from __future__ import annotations

import os
import time

from opensearchpy import OpenSearch

from projector.mappings import READ_MODELS, ReadModel


def index_prefix() -> str:
    """`PROJECTOR_INDEX_PREFIX`: lets several deployments (or test runs) share one cluster."""
    return os.environ.get("PROJECTOR_INDEX_PREFIX", "")


def alias_of(model: ReadModel, prefix: str | None = None) -> str:
    """The alias queries and the live projector use for a read model."""
    return f"{index_prefix() if prefix is None else prefix}{model.name}"


def new_index_name(model: ReadModel, prefix: str | None = None) -> str:
    """A fresh physical index name: alias, mapping version, build time."""
    return f"{alias_of(model, prefix)}-v{model.version}-{time.strftime('%Y%m%d%H%M%S')}{time.time_ns() % 1000:03d}"


def create_indices(client: OpenSearch, prefix: str | None = None) -> dict[str, str]:
    """Create a new physical index per read model; returns {model name: index name}."""
    names = {}
    for model in READ_MODELS:
        name = new_index_name(model, prefix)
        client.indices.create(index=name, body=model.body())
        names[model.name] = name
    return names


def ensure_live_indices(client: OpenSearch, prefix: str | None = None) -> dict[str, str]:
    """Make sure every read model's alias points at an index (creating one the first time); returns the aliases."""
    aliases = {}
    for model in READ_MODELS:
        alias = alias_of(model, prefix)
        if not client.indices.exists_alias(name=alias):
            name = new_index_name(model, prefix)
            client.indices.create(index=name, body={**model.body(), "aliases": {alias: {}}})
        aliases[model.name] = alias
    return aliases


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


def model_of(index: str, prefix: str | None = None) -> ReadModel:
    """The read model a physical index belongs to, from its name (raises ValueError for a foreign index)."""
    for model in READ_MODELS:
        if index.startswith(f"{alias_of(model, prefix)}-v"):
            return model
    raise ValueError(f"{index} is not an index of a read model")


def list_indices(client: OpenSearch, prefix: str | None = None) -> list[tuple[str, str, int, bool]]:
    """(model, index, documents, live) for every physical index of every read model."""
    live = set(indices_behind(client, prefix).values())
    rows = []
    for model in READ_MODELS:
        pattern = f"{alias_of(model, prefix)}-v*"
        for row in client.cat.indices(index=pattern, format="json", h="index,docs.count"):
            rows.append((model.name, row["index"], int(row["docs.count"] or 0), row["index"] in live))
    return sorted(rows)


def use_indices(client: OpenSearch, names: list[str], prefix: str | None = None) -> dict[str, str]:
    """Point the aliases of the given indices' models at them (a rollback), atomically; returns what they left."""
    wanted = {model_of(name, prefix).name: name for name in names}
    current = indices_behind(client, prefix)
    return swap_aliases(client, {**current, **wanted}, prefix)


def delete_indices(client: OpenSearch, names: list[str], prefix: str | None = None) -> None:
    """Delete old read-model indices; refuses any index an alias still points at."""
    live = set(indices_behind(client, prefix).values())
    for name in names:
        model_of(name, prefix)
        if name in live:
            raise ValueError(f"{name} is live (an alias points at it): swap away from it first")
    for name in names:
        client.indices.delete(index=name)
