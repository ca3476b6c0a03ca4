"""How the read models' aliases and physical indices are named.

Queries go through the alias; the projector writes to it live and creates physical indices beside it for a
rebuild. Both sides derive the names from here, so a prefix or a mapping version is interpreted the same way.
PROJECTOR_INDEX_PREFIX (`runtime.settings.index_prefix`) namespaces them; `prefix` overrides it for a call.
"""

from __future__ import annotations

import time

from read_models.models import READ_MODELS, ReadModel
from runtime.settings import index_prefix


def alias_of(model: ReadModel, prefix: str | None = None) -> str:
    """The alias queries and the live projector use for a read model."""
    return f"{index_prefix() if prefix is None else prefix}{model.name}"


def new_index_name(model: ReadModel, prefix: str | None = None) -> str:
    """A fresh physical index name: alias, mapping version, build time."""
    return f"{alias_of(model, prefix)}-v{model.version}-{time.strftime('%Y%m%d%H%M%S')}{time.time_ns() % 1000:03d}"


def model_of(index: str, prefix: str | None = None) -> ReadModel:
    """The read model a physical index belongs to, from its name (raises ValueError for a foreign index)."""
    for model in READ_MODELS:
        if index.startswith(f"{alias_of(model, prefix)}-v"):
            return model
    raise ValueError(f"{index} is not an index of a read model")
