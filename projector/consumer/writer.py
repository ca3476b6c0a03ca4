"""Carrying plans out against OpenSearch: bulk upserts in rounds, follow-ups, rewrites; retries and per-item errors.

A batch is applied in rounds: round k holds the k-th event of each aggregate in the batch, so an aggregate whose
event fails is not advanced past it by its next event in the same bulk request. Every bulk request makes its writes
searchable (`refresh=true`: a batch is visible at once, not after the next periodic refresh) before the next stage
reads, which is what makes the cross-aggregate
"write first, read second" rule hold (see the package docstring).

Transient failures (429, 5xx, connection errors) are retried with backoff for as long as it takes: an OpenSearch
outage delays the stream, it loses nothing. Any other failure of an event's own document is retried
`max_attempts` times and then reported as failed, for the consumer to dead-letter.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import ConnectionTimeout, TransportError

from events.envelope import EventEnvelope
from projector.consumer.handlers import plan_for
from projector.consumer.plans import Plan, Rewrite, Upsert
from projector.consumer.scripts import REWRITE_SCRIPT_ID, SCRIPT_ID

log = logging.getLogger(__name__)
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
T = TypeVar("T")


class ProjectionError(Exception):
    """A write failed for a reason retrying will not cure."""


@dataclass(frozen=True)
class Applied:
    """An event applied (or found already applied); `document` is its own aggregate's document afterwards."""

    event: EventEnvelope
    document: dict[str, Any] | None


@dataclass(frozen=True)
class Failed:
    """An event that could not be applied; the consumer dead-letters it."""

    event: EventEnvelope
    reason: str


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, OpenSearchConnectionError | ConnectionTimeout):
        return True
    return isinstance(exc, TransportError) and isinstance(exc.status_code, int) and exc.status_code in TRANSIENT_STATUS


class Writer:
    """Applies batches of events to the read models named in `targets` ({model name: alias or index})."""

    def __init__(
        self, client: OpenSearch, targets: dict[str, str], *, max_attempts: int = 3, max_backoff: float = 10.0
    ) -> None:
        self.client = client
        self.targets = targets
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff

    # The public entry point.

    def apply(self, events: Sequence[EventEnvelope]) -> tuple[list[Applied], list[Failed]]:
        """Apply events (in stream order per aggregate); return what was applied and what failed."""
        applied: list[Applied] = []
        failed: list[Failed] = []
        blocked: set[tuple[str, str]] = set()
        follow_ups = []
        for round_events in _rounds(events):
            planned = []
            for event in round_events:
                aggregate = (event.aggregate_type, event.aggregate_id)
                if aggregate in blocked:
                    failed.append(
                        Failed(event, f"held behind an earlier failed event of {aggregate[0]} {aggregate[1]}")
                    )
                    continue
                try:
                    plan = plan_for(event)
                except Exception as exc:  # a handler bug or data it cannot take: dead-letter, keep the stream going
                    blocked.add(aggregate)
                    failed.append(Failed(event, f"handler failed: {exc!r}"))
                    continue
                if plan is None:
                    applied.append(Applied(event, None))
                else:
                    planned.append((event, plan))
            results = self._upsert([plan.primary for _, plan in planned], want_source=True)
            for (event, plan), result in zip(planned, results, strict=True):
                if isinstance(result, str):
                    blocked.add((event.aggregate_type, event.aggregate_id))
                    failed.append(Failed(event, result))
                else:
                    applied.append(Applied(event, result))
                    follow_ups.append((plan, result))
        self._follow(follow_ups)
        if events:
            self._refresh()  # one refresh per batch: searchable on return, which notices and offset commits rely on
        return applied, failed

    # Stages.

    def _follow(self, follow_ups: list[tuple[Plan, dict[str, Any]]]) -> None:
        upserts: list[Upsert] = []
        lookups = []
        rewrites: list[Rewrite] = []
        for plan, document in follow_ups:
            work = plan.follow(document)
            upserts.extend(work.upserts)
            lookups.extend(work.lookups)
            rewrites.extend(work.rewrites)
        if lookups:
            fetched = self._mget([(lookup.model, lookup.doc_id) for lookup in lookups])
            for lookup, source in zip(lookups, fetched, strict=True):
                if source is not None and (folded := lookup.fold(source)) is not None:
                    upserts.append(folded)
        for result, upsert in zip(self._upsert(upserts, want_source=False), upserts, strict=True):
            if isinstance(result, str):  # a follow-up of an applied event: retried by the caller's redelivery
                raise ProjectionError(f"follow-up write of {upsert.model} {upsert.doc_id} failed: {result}")
        grouped: dict[tuple[str, str], list[Rewrite]] = defaultdict(list)
        for rewrite in rewrites:
            grouped[(rewrite.model, next(iter(rewrite.term)))].append(rewrite)
        for group in grouped.values():
            self._rewrite(group)

    def _upsert(self, upserts: list[Upsert], *, want_source: bool) -> list[dict[str, Any] | str]:
        """Bulk scripted upserts; each result is the document (or {}) or a permanent error message."""
        results: list[dict[str, Any] | str | None] = [None] * len(upserts)
        pending = list(range(len(upserts)))
        attempts = 0
        while pending:
            body: list[dict[str, Any]] = []
            for i in pending:
                upsert = upserts[i]
                body.append(
                    {"update": {"_index": self.targets[upsert.model], "_id": upsert.doc_id, "retry_on_conflict": 10}}
                )
                action = {"script": {"id": SCRIPT_ID, "params": upsert.params()}, "scripted_upsert": True, "upsert": {}}
                if want_source:
                    action["_source"] = True
                body.append(action)
            response = self._call(lambda body=body: self.client.bulk(body=body))  # made searchable by apply()
            attempts += 1
            retry = []
            for i, item in zip(pending, response["items"], strict=True):
                outcome = item["update"]
                status = outcome.get("status", 500)
                if status < 300:
                    results[i] = (outcome.get("get") or {}).get("_source", {})
                elif status in TRANSIENT_STATUS or status == 409 or attempts < self.max_attempts:
                    retry.append(i)
                else:
                    results[i] = f"{status} {str(outcome.get('error'))[:500]}"
            if retry:
                self._sleep(attempts)
            pending = retry
        return results  # type: ignore[return-value]

    def _refresh(self, model: str | None = None) -> None:
        """Make what was written searchable: one read model, or all of them.

        Writes within a batch need no refresh (scripted updates and realtime mget see the latest version); only
        searches do, so a batch refreshes before an update_by_query and once at its end, not after every bulk.
        """
        targets = [self.targets[model]] if model else sorted(set(self.targets.values()))
        self._call(lambda: self.client.indices.refresh(index=",".join(targets)))

    def _mget(self, keys: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        docs = [{"_index": self.targets[model], "_id": doc_id} for model, doc_id in keys]
        response = self._call(lambda: self.client.mget(body={"docs": docs}, realtime=True))
        return [doc.get("_source") if doc.get("found") else None for doc in response["docs"]]

    def _rewrite(self, rewrites: list[Rewrite]) -> None:
        """Rewrites of one model and key field, in one update_by_query until no conflict is left.

        Each matching document picks its own facets by its key; the per-field version guards make it a no-op where
        the document already knows as much, so re-running after a conflict is harmless.
        """
        model, key_field = rewrites[0].model, next(iter(rewrites[0].term))
        by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rewrite in rewrites:
            by_key[rewrite.term[key_field]].append(rewrite.facet.param())
        query = {"terms": {key_field: sorted(by_key)}}
        params = {"key_field": key_field, "by_key": by_key}
        self._refresh(model)  # update_by_query searches: it must see the documents this batch wrote
        for attempt in range(1, 20):
            response = self._call(
                lambda: self.client.update_by_query(
                    index=self.targets[model],
                    body={"query": query, "script": {"id": REWRITE_SCRIPT_ID, "params": params}},
                    conflicts="proceed",
                    refresh=True,
                )
            )
            if not response.get("version_conflicts") and not response.get("failures"):
                return
            self._sleep(attempt)
        raise ProjectionError(f"could not rewrite {model} by {key_field}: conflicts kept recurring")

    # Retries.

    def _call(self, request: Callable[[], T]) -> T:
        """Run a request, retrying transient failures with backoff until it goes through."""
        attempt = 0
        while True:
            try:
                return request()
            except Exception as exc:
                if not _is_transient(exc):
                    raise
                attempt += 1
                log.warning("OpenSearch unavailable (%s); retrying", exc)
                self._sleep(attempt)

    def _sleep(self, attempt: int) -> None:
        time.sleep(min(self.max_backoff, 0.1 * 2 ** min(attempt, 10)))


def _rounds(events: Sequence[EventEnvelope]) -> list[list[EventEnvelope]]:
    """Round k: the k-th event of each aggregate, in stream order."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    rounds: list[list[EventEnvelope]] = []
    for event in events:
        aggregate = (event.aggregate_type, event.aggregate_id)
        k = seen[aggregate]
        seen[aggregate] += 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(event)
    return rounds
