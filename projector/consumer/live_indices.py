"""The live read models' indices, created behind their aliases the first time a projector starts.

Start-up state, like the scripts (`projector.consumer.scripts`) and the holds index: idempotent, so every replica
runs it. Later physical indices come from a rebuild (`projector.operations.indices`), never from here.
"""

from __future__ import annotations

from opensearchpy import OpenSearch

from read_models.indices import alias_of, new_index_name
from read_models.models import READ_MODELS


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


def kept_indices(client: OpenSearch, prefix: str | None = None) -> dict[str, list[str]]:
    """{model name: its physical indices no alias points at}: those a rebuild left for rollback, and a running
    rebuild's or rollback's targets (until their swap)."""
    kept: dict[str, list[str]] = {}
    for model in READ_MODELS:
        alias = alias_of(model, prefix)
        indices = client.indices.get_alias(index=f"{alias}-v*", expand_wildcards="open", ignore_unavailable=True)
        kept[model.name] = sorted(name for name, entry in indices.items() if alias not in entry.get("aliases", {}))
    return kept
