"""Compare every read-model document with what the command database says it should be.

For each read model, the expected documents (`projector.operations.source`) are read in id order a chunk at a time
and the documents of the same ids fetched with one mget per chunk; then every id in the index is scrolled through to
find documents the database does not know. The outcome per document:

- match: every compared field is equal (an absent field counts as null, as it does for queries);
- missing: the row is live but there is no document;
- extra: a document whose id is no row of the database;
- stale: the document differs; each differing field is reported (nested fields dotted: `author.display_name`).

Deleted rows: a tombstone (`deleted: true`) matches when its own version (and a post's status) agrees; its other
fields are never served. A deleted row with no document at all is accepted and only counted (`never projected`):
nothing reads a document that is not there, and a projection built from rows need not write tombstones.

Erased people (`erased`: the key ring's erased markers, `projector.consumer.subject_keys`): whatever rows the command
side keeps of them, their author document and the documents of their posts and comments are expected to be
tombstones or absent (kept indices are purged of them: `projector.consumer.erasure`), and are counted (`erased`);
one that still holds their data is stale. A tombstone whose row is gone (erasure may delete rows) is counted
likewise, not reported extra.

The fields compared are those of the expected document; the mapped fields it leaves out are listed, with the
reason, in NOT_COMPARED (a test keeps the two in step with the mappings). `author_version` is compared: once
converged it is the author's current version, and a wrong one would let a stale profile win later.

Run it on a quiescent stream (lag 0): a document written while verify runs may be reported against the database
snapshot it took.
"""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from opensearchpy import OpenSearch, helpers
from tqdm import tqdm

from projector.consumer.documents import field_of
from read_models.documents import PRIVATE_FIELDS, TOMBSTONE_FLAGS, is_tombstone

MODELS = ("posts", "comments", "authors")
# Mapped fields that no database row predicts: the projector's own bookkeeping and guards.
NOT_COMPARED = {
    "posts": {
        "count_clock": "guard of the counts: the recount tick that wrote them",
        "comment_facing_version": "guard: the last post version that changed what comments show",
        "field_versions": "bookkeeping: the version that last wrote each field",
    },
    "comments": {
        "post_version": "guard of post_title / post_deleted: the last post event that changed them (no row says)",
        "field_versions": "bookkeeping: the version that last wrote each field",
    },
    "authors": {
        "registered": "bookkeeping: the user's own event was applied",
        "erased": "the person's erasure: known from the key topic's erased markers, not from a row",
        "count_clock": "guard of the counts: the recount tick that wrote them",
        "field_versions": "bookkeeping: the version that last wrote each field",
    },
}
TOMBSTONE_FIELDS = {"posts": ("deleted", "status", "post_version"), "comments": ("deleted", "comment_version")}
MGET_EXCLUDES = ",".join(PRIVATE_FIELDS)
SCROLL_PAGE = 5000
SHOWN_CHARS = 80


class Source(Protocol):
    """What verify needs from the command database (see `projector.operations.source.CommandSource`)."""

    def count(self, model: str) -> int:
        """Rows behind the read model."""

    def documents(self, model: str) -> Iterable[list[dict[str, Any]]]:
        """Expected documents in id order, as an iterable of chunks (lists of dicts)."""


@dataclass(frozen=True)
class Mismatch:
    """One document that is not what the database says: `fields` maps each differing field to (expected, actual)."""

    model: str
    doc_id: str
    kind: str  # "missing" | "extra" | "stale"
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class ModelCounts:
    """The tally of one read model."""

    rows: int = 0
    documents: int = 0
    matched: int = 0
    missing: int = 0
    extra: int = 0
    stale: int = 0
    never_projected: int = 0
    erased: int = 0

    @property
    def mismatches(self) -> int:
        """Missing, extra and stale documents."""
        return self.missing + self.extra + self.stale


@dataclass
class Report:
    """Counts per read model (always complete) and details (at most `limit` per model and kind; None: all)."""

    limit: int | None = None
    counts: dict[str, ModelCounts] = field(default_factory=lambda: {model: ModelCounts() for model in MODELS})
    details: list[Mismatch] = field(default_factory=list)
    _listed: Counter = field(default_factory=Counter, repr=False)

    @property
    def ok(self) -> bool:
        """True when no document is missing, extra or stale."""
        return not any(counts.mismatches for counts in self.counts.values())

    def add(self, mismatch: Mismatch) -> None:
        """Count a mismatch, keeping its details while under the limit."""
        counts = self.counts[mismatch.model]
        setattr(counts, mismatch.kind, getattr(counts, mismatch.kind) + 1)
        key = (mismatch.model, mismatch.kind)
        if self.limit is None or self._listed[key] < self.limit:
            self._listed[key] += 1
            self.details.append(mismatch)

    def find(self, model: str, doc_id: str) -> Mismatch | None:
        """The listed mismatch of one document, if any."""
        return next((m for m in self.details if m.model == model and m.doc_id == doc_id), None)

    def text(self) -> str:
        """The report as an operator reads it."""
        lines = []
        for model, c in self.counts.items():
            lines.append(
                f"{model:<9} rows {c.rows}  documents {c.documents}  match {c.matched}  missing {c.missing}  "
                f"extra {c.extra}  stale {c.stale}  (deleted rows never projected: {c.never_projected}; "
                f"erased: {c.erased})"
            )
        for mismatch in self.details:
            lines.append(f"{mismatch.kind:<8} {mismatch.model} {mismatch.doc_id}")
            for name, (expected, actual) in mismatch.fields.items():
                lines.append(f"    {name}: expected {_shown(expected)}, actual {_shown(actual)}")
        for model, kind in itertools.product(self.counts, ("missing", "extra", "stale")):
            if (unlisted := getattr(self.counts[model], kind) - self._listed[model, kind]) > 0:
                lines.append(f"... and {unlisted} more {kind} {model} not listed (raise --limit)")
        total = sum(c.mismatches for c in self.counts.values())
        lines.append(
            "OK: every document matches the command database"
            if self.ok
            else f"MISMATCH: {total} documents differ from the command database"
        )
        return "\n".join(lines)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[: SHOWN_CHARS - 1]}…"


def _flat(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def differences(model: str, expected: dict[str, Any], actual: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (expected, actual)} for every field of `expected` the document differs in (absent equals null)."""
    if expected.get("deleted") and actual.get("deleted") is True and model in TOMBSTONE_FIELDS:
        expected = {name: expected.get(name) for name in TOMBSTONE_FIELDS[model]}
    want, have = _flat(expected), _flat(actual)
    return {name: (value, have.get(name)) for name, value in sorted(want.items()) if value != have.get(name)}


def _mget(client: OpenSearch, index: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    response = client.mget(index=index, body={"ids": ids}, _source_excludes=MGET_EXCLUDES)
    return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}


def _subject(model: str, expected: dict[str, Any]) -> str | None:
    """The person a document is about: an author's own id, content's author."""
    return expected["id"] if model == "authors" else field_of(expected, "author.id")


def _verify_model(
    client: OpenSearch,
    index: str,
    model: str,
    source: Source,
    report: Report,
    progress: bool,
    erased: Callable[[str], bool],
) -> None:
    counts = report.counts[model]
    rows: set[str] = set()
    total = source.count(model) + client.count(index=index)["count"]
    with tqdm(total=total, desc=f"verify {model}", unit="doc", file=sys.stderr, disable=not progress) as bar:
        for chunk in source.documents(model):
            actual = _mget(client, index, [expected["id"] for expected in chunk])
            for expected in chunk:
                doc_id = expected["id"]
                rows.add(doc_id)
                counts.rows += 1
                document = actual.get(doc_id)
                if (subject := _subject(model, expected)) is not None and erased(str(subject)):
                    if document is None or is_tombstone(document):
                        counts.erased += 1
                    else:  # a live copy of an erased person's data
                        flag = "erased" if model == "authors" else "deleted"
                        report.add(Mismatch(model, doc_id, "stale", {flag: (True, document.get(flag))}))
                elif document is None:
                    if expected.get("deleted"):
                        counts.never_projected += 1
                    else:
                        report.add(Mismatch(model, doc_id, "missing"))
                elif fields := differences(model, expected, document):
                    report.add(Mismatch(model, doc_id, "stale", fields))
                else:
                    counts.matched += 1
            bar.update(len(chunk))
        hits = helpers.scan(client, index=index, query={"_source": list(TOMBSTONE_FLAGS)}, size=SCROLL_PAGE)
        for n, hit in enumerate(hits, 1):
            counts.documents += 1
            if hit["_id"] not in rows:
                if is_tombstone(hit.get("_source")):
                    counts.erased += 1
                else:
                    report.add(Mismatch(model, hit["_id"], "extra"))
            if n % SCROLL_PAGE == 0:
                bar.update(SCROLL_PAGE)
        bar.update(counts.documents % SCROLL_PAGE)


def verify(
    client: OpenSearch,
    targets: dict[str, str],
    source: Source,
    *,
    limit: int | None = None,
    progress: bool = False,
    erased: Callable[[str], bool] = lambda subject_id: False,
) -> Report:
    """Compare the read models named in `targets` ({model: alias or index}) with `source`; see the module doc.

    Args:
        client: the OpenSearch client.
        targets: where each read model is, e.g. the live aliases.
        source: the command database as expected documents (an open `CommandSource`).
        limit: at most this many details listed per read model and kind (counts stay complete); None: all.
        progress: show a progress bar per read model on stderr.
        erased: whether a person was erased (`KeyRing.erased` of a loaded `KafkaKeyRing`).
    """
    report = Report(limit=limit)
    for model in MODELS:
        _verify_model(client, targets[model], model, source, report, progress, erased)
    return report
