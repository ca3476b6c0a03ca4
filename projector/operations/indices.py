"""Physical indices and their aliases: fresh builds beside the live read models, the atomic swap, rollback.

What operations do to the indices: create fresh ones for a rebuild and swap the aliases to them, and the
operator's list / use (rollback) / delete. The live ones are created at start-up by the consumer
(`projector.consumer.live_indices`); the names are the contract's (`read_models.indices`).
"""

from __future__ import annotations

from opensearchpy import OpenSearch

from read_models.indices import alias_of, model_of, new_index_name
from read_models.models import READ_MODELS


def create_indices(client: OpenSearch, prefix: str | None = None) -> dict[str, str]:
    """Create a new physical index per read model; returns {model name: index name}."""
    names = {}
    for model in READ_MODELS:
        name = new_index_name(model, prefix)
        client.indices.create(index=name, body=model.body())
        names[model.name] = name
    return names


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
