"""Carrying plans out against OpenSearch: bulk upserts in rounds, follow-ups, rewrites; retries and per-item errors.

A batch is applied in rounds: round k holds the k-th event of each aggregate in the batch, so an aggregate whose
event fails is not advanced past it by its next event in the same bulk request. Every bulk request makes its writes
searchable (`refresh=true`: a batch is visible at once, not after the next periodic refresh) before the next stage
reads, which is what makes the cross-aggregate
"write first, read second" rule hold (see the package docstring).

Transient failures (429, 5xx, connection errors) are retried with backoff for as long as it takes: an OpenSearch
outage delays the stream, it loses nothing. Nothing else wedges a batch: any other failure of an event's own
document is retried `max_attempts` times and then reported as failed, for the consumer to dead-letter; so is an
event whose follow-up (a member count, a lookup's fold, a rewrite) OpenSearch refuses for good, together with the
later events of its aggregate in the batch (replaying them is harmless: every write is version-guarded). A request
refused as a whole (413 too large, any other non-transient status) or timing out or tripping the in-flight circuit
breaker `max_attempts` times is halved until it goes through, and an item refused on its own is reported as failed;
a single item that keeps timing out is an outage, retried.
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
from projector.consumer.plans import Lookup, Plan, Rewrite, Upsert
from projector.consumer.scripts import REWRITE_SCRIPT_ID, SCRIPT_ID

log = logging.getLogger(__name__)
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
T = TypeVar("T")


class Refused(Exception):
    """OpenSearch refused a request as a whole, for a reason retrying the same request will not cure."""

    def __init__(self, reason: str, *, splittable: bool = True) -> None:
        super().__init__(reason)
        self.splittable = splittable  # False: splitting would not help (e.g. conflicts that keep recurring)


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
        follow_ups: list[tuple[EventEnvelope, Plan, dict[str, Any]]] = []
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
                    follow_ups.append((event, plan, result))
        if refused := self._follow(follow_ups):
            applied, failed = _fail_from(events, applied, failed, refused)
        if events:
            self._refresh()  # one refresh per batch: searchable on return, which notices and offset commits rely on
        return applied, failed

    # Stages.

    def _follow(self, follow_ups: list[tuple[EventEnvelope, Plan, dict[str, Any]]]) -> dict[str, str]:
        """Carry out the follow-ups; return why, by event id, those of events OpenSearch refused for good."""
        refused: dict[str, str] = {}
        upserts: list[tuple[str, Upsert]] = []
        lookups: list[tuple[str, Lookup]] = []
        rewrites: list[tuple[str, Rewrite]] = []
        for event, plan, document in follow_ups:
            try:
                work = plan.follow(document)
            except Exception as exc:  # a handler bug or data it cannot take: dead-letter, keep the stream going
                refused[event.event_id] = f"follow-up planning failed: {exc!r}"
                continue
            upserts.extend((event.event_id, upsert) for upsert in work.upserts)
            lookups.extend((event.event_id, lookup) for lookup in work.lookups)
            rewrites.extend((event.event_id, rewrite) for rewrite in work.rewrites)
        if lookups:
            fetched = self._mget([(lookup.model, lookup.doc_id) for _, lookup in lookups])
            for (event_id, lookup), source in zip(lookups, fetched, strict=True):
                try:
                    if source is not None and (folded := lookup.fold(source)) is not None:
                        upserts.append((event_id, folded))
                except Exception as exc:
                    refused.setdefault(event_id, f"lookup of {lookup.model} {lookup.doc_id} failed: {exc!r}")
        results = self._upsert([upsert for _, upsert in upserts], want_source=False)
        for (event_id, upsert), result in zip(upserts, results, strict=True):
            if isinstance(result, str):
                refused.setdefault(event_id, f"follow-up write of {upsert.model} {upsert.doc_id} failed: {result}")
        grouped: dict[tuple[str, str], list[tuple[str, Rewrite]]] = defaultdict(list)
        for event_id, rewrite in rewrites:
            grouped[(rewrite.model, next(iter(rewrite.term)))].append((event_id, rewrite))
        for group in grouped.values():
            for event_id, reason in self._rewrite_halving(group).items():
                refused.setdefault(event_id, reason)
        return refused

    def _upsert(self, upserts: list[Upsert], *, want_source: bool) -> list[dict[str, Any] | str]:
        """Bulk scripted upserts; each result is the document (or {}) or a permanent error message."""
        results: list[dict[str, Any] | str | None] = [None] * len(upserts)
        self._upsert_part(upserts, list(range(len(upserts))), want_source, results)
        return results  # type: ignore[return-value]

    def _upsert_part(
        self, upserts: list[Upsert], part: list[int], want_source: bool, results: list[dict[str, Any] | str | None]
    ) -> None:
        """Upsert `upserts[i]` for i in `part` in one bulk request, halved while OpenSearch refuses it as a whole."""
        pending = part
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
            try:  # made searchable by apply()
                response = self._send(lambda body=body: self.client.bulk(body=body), splittable=len(pending) > 1)
            except Refused as refused:
                if len(pending) == 1:
                    results[pending[0]] = str(refused)
                    return
                log.warning("bulk request of %d items refused (%s); halving it", len(pending), refused)
                half = len(pending) // 2
                self._upsert_part(upserts, pending[:half], want_source, results)
                self._upsert_part(upserts, pending[half:], want_source, results)
                return
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

    def _rewrite_halving(self, group: list[tuple[str, Rewrite]]) -> dict[str, str]:
        """Run a group of rewrites, halved while OpenSearch refuses it; why, by event id, the refused ones failed."""
        try:
            self._rewrite([rewrite for _, rewrite in group])
            return {}
        except Refused as refused:
            if len(group) == 1 or not refused.splittable:
                reason = f"rewrite of {group[0][1].model} failed: {refused}"
                return {event_id: reason for event_id, _ in group}
            half = len(group) // 2
            return {**self._rewrite_halving(group[:half]), **self._rewrite_halving(group[half:])}

    def _rewrite(self, rewrites: list[Rewrite]) -> None:
        """Rewrites of one model and key field, in one update_by_query until no conflict is left.

        Each matching document picks its own facets by its key; the per-field version guards make it a no-op where
        the document already knows as much, so re-running after a conflict or a partial failure is harmless.
        Raises `Refused` when OpenSearch refuses the request or a document's write for good.
        """
        model, key_field = rewrites[0].model, next(iter(rewrites[0].term))
        by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rewrite in rewrites:
            by_key[rewrite.term[key_field]].append(rewrite.facet.param())
        query = {"terms": {key_field: sorted(by_key)}}
        params = {"key_field": key_field, "by_key": by_key}
        self._refresh(model)  # update_by_query searches: it must see the documents this batch wrote
        attempt = conflicted = 0
        while True:
            response = self._send(
                lambda: self.client.update_by_query(
                    index=self.targets[model],
                    body={"query": query, "script": {"id": REWRITE_SCRIPT_ID, "params": params}},
                    conflicts="proceed",
                    refresh=True,
                ),
                splittable=len(rewrites) > 1,
            )
            failures = response.get("failures") or []
            for failure in failures:
                if failure.get("status", 500) not in TRANSIENT_STATUS:
                    raise Refused(f"{failure.get('status')} {str(failure.get('cause') or failure)[:500]}")
            if response.get("version_conflicts"):
                conflicted += 1
                if conflicted >= 20:
                    raise Refused(f"conflicts kept recurring by {key_field}", splittable=False)
            elif not failures:
                return
            attempt += 1
            self._sleep(attempt)

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

    def _send(self, request: Callable[[], T], *, splittable: bool) -> T:
        """Run a write request like `_call`, but raise `Refused` when splitting it may cure what retrying cannot.

        A non-transient status (413 too large, 400 ...) is refused at once; a timeout, or a request the in-flight
        circuit breaker finds too large (429 `circuit_breaking_exception`), `max_attempts` times in a row only when
        the request can be split (a single item that keeps failing so is an outage, retried).
        """
        attempt = timeouts = 0
        while True:
            try:
                return request()
            except ConnectionTimeout as exc:
                timeouts += 1
                if splittable and timeouts >= self.max_attempts:
                    raise Refused(f"timed out {timeouts} times: {exc}") from exc
                error: Exception = exc
            except TransportError as exc:
                if exc.status_code == 429 and exc.error == "circuit_breaking_exception":
                    timeouts += 1
                    if splittable and timeouts >= self.max_attempts:
                        raise Refused(f"too large for OpenSearch's circuit breaker: {exc.info}"[:600]) from exc
                if not _is_transient(exc):
                    if not isinstance(exc.status_code, int):
                        raise
                    raise Refused(f"{exc.status_code} {str(exc.info or exc.error)[:500]}") from exc
                error = exc
            attempt += 1
            log.warning("OpenSearch unavailable (%s); retrying", error)
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


def _fail_from(
    events: Sequence[EventEnvelope], applied: list[Applied], failed: list[Failed], refused: dict[str, str]
) -> tuple[list[Applied], list[Failed]]:
    """Move the events whose follow-ups were refused, and their aggregates' later events, from applied to failed.

    Failed events stay in stream order, which is the order the consumer dead-letters them in.
    """
    position = {event.event_id: i for i, event in enumerate(events)}
    first: dict[tuple[str, str], int] = {}
    for event in events:
        if event.event_id in refused:
            first.setdefault((event.aggregate_type, event.aggregate_id), position[event.event_id])
    kept: list[Applied] = []
    for item in applied:
        aggregate = (item.event.aggregate_type, item.event.aggregate_id)
        start = first.get(aggregate)
        if start is None or position[item.event.event_id] < start:
            kept.append(item)
        else:
            default = f"held behind an earlier failed event of {aggregate[0]} {aggregate[1]}"
            failed.append(Failed(item.event, refused.get(item.event.event_id, default)))
    return kept, sorted(failed, key=lambda failure: position[failure.event.event_id])
