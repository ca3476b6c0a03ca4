"""What applying an event means, as data: which document to upsert, what to fold in from others, what to rewrite.

Handlers (`projector.consumer.handlers`) turn an event into a `Plan`; `projector.consumer.writer` carries plans out
against OpenSearch. Keeping plans as plain data keeps handlers pure and unit-testable without a cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Facet:
    """Fields owned by one aggregate, applied only if `version` is newer than the document's `guard` field."""

    guard: str
    version: int
    set: dict[str, Any]

    def param(self) -> dict[str, Any]:
        """The script parameter of this facet."""
        return {"guard": self.guard, "version": self.version, "set": self.set}


@dataclass(frozen=True)
class Upsert:
    """A scripted upsert of one document: version-guarded facets, plus fields to default when absent."""

    model: str
    doc_id: str
    facets: tuple[Facet, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The parameters of the apply script."""
        return {"id": self.doc_id, "facets": [facet.param() for facet in self.facets], "defaults": self.defaults}

    def merged(self, later: Upsert) -> Upsert:
        """This upsert and a later one of the same document as one write (facets in order; earlier defaults win)."""
        return Upsert(self.model, self.doc_id, self.facets + later.facets, {**later.defaults, **self.defaults})


@dataclass(frozen=True)
class Lookup:
    """Read another document (after the primary write is searchable) and fold part of it into the primary one."""

    model: str
    doc_id: str
    fold: Callable[[dict[str, Any]], Upsert | None]


@dataclass(frozen=True)
class Rewrite:
    """Update every document of `model` matching `term` whose `facet.guard` is older than the facet."""

    model: str
    term: dict[str, str]
    facet: Facet


@dataclass(frozen=True)
class Recount:
    """Recount an owner's members (a post's comments, an author's posts and comments) once the batch is searchable.

    See `projector.consumer.counts`: the counts are recomputed from the member documents, never kept as state.
    """

    model: str
    doc_id: str


@dataclass(frozen=True)
class FollowUps:
    """Work that needs the primary document as written: lookups, rewrites, recounts."""

    lookups: tuple[Lookup, ...] = ()
    rewrites: tuple[Rewrite, ...] = ()
    recounts: tuple[Recount, ...] = ()


@dataclass(frozen=True)
class Plan:
    """How to apply one event: the upsert of its own aggregate's document, then follow-ups built from the result."""

    primary: Upsert
    follow: Callable[[dict[str, Any]], FollowUps] = lambda document: FollowUps()
