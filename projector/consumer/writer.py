"""Carrying plans out against OpenSearch: folded upserts, follow-ups, recounts, rewrites; retries and per-item errors.

A batch is applied in stages, each one request whatever the batch holds: every aggregate's events fold into one
scripted upsert of its document (the script's per-field guards make that the same as applying them one by one);
then the follow-ups of the documents written: lookups (a realtime mget), recounts (`projector.consumer.counts`:
aggregations, once the batch is searchable), their writes merged by document into one bulk request, and rewrites
(update_by_query tasks); then one refresh, so the batch is searchable on return. Reading only after writing, and
rewriting only after refreshing, is what makes the cross-aggregate "write first, read second" rule hold (see the
package docstring). An aggregate whose folded write is refused is written again event by event (round k: the k-th
event of each), so that only the event OpenSearch refuses, and the later ones of its aggregate, fail.

Transient failures (429, 5xx, connection errors) are retried with backoff for as long as it takes: an OpenSearch
outage delays the stream, it loses nothing. Nothing else wedges a batch: any other failure of an event's own
document is retried `max_attempts` times and then reported as failed, for the consumer to dead-letter; so is an
event whose follow-up (a recount, a lookup's fold, a rewrite) OpenSearch refuses for good, together with the
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
from projector.consumer.counts import RecountClock, count_upserts, counts_of, recount_searches
from projector.consumer.documents import field_of
from projector.consumer.handlers import plan_for
from projector.consumer.plans import Lookup, Plan, Recount, Rewrite, Upsert
from projector.consumer.scripts import REWRITE_SCRIPT_ID, SCRIPT_ID
from read_models.documents import VERSION_FIELDS
from read_models.visibility import REMOVALS

log = logging.getLogger(__name__)
FANOUT_PAGE = 2000  # a rewrite reaching more documents runs as an update_by_query task
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
TASK_POLL_SECONDS = 0.05
T = TypeVar("T")


class Refused(Exception):
    """OpenSearch refused a request as a whole, for a reason retrying the same request will not cure."""

    def __init__(self, reason: str, *, splittable: bool = True) -> None:
        super().__init__(reason)
        self.splittable = splittable  # False: splitting would not help (e.g. conflicts that keep recurring)


@dataclass(frozen=True)
class Applied:
    """An event applied (or found already applied); `document` is its own aggregate's document afterwards.

    `superseded`: a later event of the same aggregate is applied too (later in the batch, or before: a redelivery
    or replay), so `document` is not the document as of this event; its notice is not published.
    """

    event: EventEnvelope
    document: dict[str, Any] | None
    superseded: bool = False


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
        self,
        client: OpenSearch,
        targets: dict[str, str],
        *,
        max_attempts: int = 3,
        max_backoff: float = 10.0,
        fanout_page: int = FANOUT_PAGE,
    ) -> None:
        self.client = client
        self.targets = targets
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.fanout_page = fanout_page
        self.clock = RecountClock(client)

    # The public entry point.

    def apply(self, events: Sequence[EventEnvelope]) -> tuple[list[Applied], list[Failed]]:
        """Apply events (in stream order per aggregate); return what was applied and what failed.

        Stages: every aggregate's events of the batch fold into one write of its document; then, from the documents
        written, the follow-ups: lookups (read after the primary writes), recounts (read once they are searchable),
        their writes in one bulk, rewrites; then one refresh, after which the whole batch is searchable.
        """
        failed: list[Failed] = []
        planned: list[tuple[EventEnvelope, Plan]] = []
        ignored: list[EventEnvelope] = []
        blocked: set[tuple[str, str]] = set()
        for event in events:
            aggregate = (event.aggregate_type, event.aggregate_id)
            if aggregate in blocked:
                failed.append(Failed(event, _held_behind(aggregate)))
                continue
            try:
                plan = plan_for(event)
            except Exception as exc:  # a handler bug or data it cannot take: dead-letter, keep the stream going
                blocked.add(aggregate)
                failed.append(Failed(event, f"handler failed: {exc!r}"))
                continue
            if plan is None:
                ignored.append(event)
            else:
                planned.append((event, plan))
        documents, refused = self._write_primaries(planned)
        written = [(event, plan, documents[event.event_id]) for event, plan in planned if event.event_id in documents]
        failed.extend(Failed(event, refused[event.event_id]) for event, _ in planned if event.event_id in refused)
        applied = [Applied(event, None) for event in ignored]
        applied.extend(Applied(event, document, _superseded(event, document)) for event, _, document in written)
        if later := self._follow(written):
            applied, failed = _fail_from(events, applied, failed, later)
        if events:
            self._refresh()  # one refresh per batch: searchable on return, which notices and offset commits rely on
        position = {event.event_id: i for i, event in enumerate(events)}
        applied.sort(key=lambda item: position[item.event.event_id])
        return applied, sorted(failed, key=lambda failure: position[failure.event.event_id])

    # Stages.

    def _write_primaries(
        self, planned: list[tuple[EventEnvelope, Plan]]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Each aggregate's events as one write of its document; (document by event id, failure by event id).

        An aggregate whose folded write is refused is written again one event at a time (round k: the k-th event of
        each such aggregate), so that only the event OpenSearch refuses, and those after it, fail.
        """
        by_aggregate: dict[tuple[str, str], list[tuple[EventEnvelope, Plan]]] = defaultdict(list)
        for event, plan in planned:
            by_aggregate[(event.aggregate_type, event.aggregate_id)].append((event, plan))
        folded = [_fold([plan.primary for _, plan in group]) for group in by_aggregate.values()]
        documents: dict[str, dict[str, Any]] = {}
        refused: dict[str, str] = {}
        retry: list[tuple[EventEnvelope, Plan]] = []
        for group, result in zip(by_aggregate.values(), self._upsert(folded, want_source=True), strict=True):
            if isinstance(result, str) and len(group) > 1:
                retry.extend(group)
            elif isinstance(result, str):
                refused[group[0][0].event_id] = result
            else:
                documents.update((event.event_id, result) for event, _ in group)
        blocked: set[tuple[str, str]] = set()
        for round_planned in _rounds(retry):
            round_planned = [(e, p) for e, p in round_planned if (e.aggregate_type, e.aggregate_id) not in blocked]
            results = self._upsert([plan.primary for _, plan in round_planned], want_source=True)
            for (event, _), result in zip(round_planned, results, strict=True):
                if isinstance(result, str):
                    blocked.add((event.aggregate_type, event.aggregate_id))
                    refused[event.event_id] = result
                else:
                    documents[event.event_id] = result
        for event, _ in retry:
            if event.event_id not in documents and event.event_id not in refused:
                refused[event.event_id] = _held_behind((event.aggregate_type, event.aggregate_id))
        # An aggregate's events all see its document as the batch left it (the follow-ups are version-guarded).
        last: dict[tuple[str, str], dict[str, Any]] = {}
        for event, _ in planned:
            if event.event_id in documents:
                last[(event.aggregate_type, event.aggregate_id)] = documents[event.event_id]
        for event, _ in planned:
            if event.event_id in documents:
                documents[event.event_id] = last[(event.aggregate_type, event.aggregate_id)]
        return documents, refused

    def _follow(self, written: list[tuple[EventEnvelope, Plan, dict[str, Any]]]) -> dict[str, str]:
        """Carry out the follow-ups; return why, by event id, those of events OpenSearch refused for good."""
        refused: dict[str, str] = {}
        lookups: list[tuple[str, Lookup]] = []
        rewrites: list[tuple[str, Rewrite]] = []
        recounts: dict[Recount, list[str]] = defaultdict(list)
        for event, plan, document in written:
            try:
                work = plan.follow(document)
            except Exception as exc:  # a handler bug or data it cannot take: dead-letter, keep the stream going
                refused[event.event_id] = f"follow-up planning failed: {exc!r}"
                continue
            lookups.extend((event.event_id, lookup) for lookup in work.lookups)
            rewrites.extend((event.event_id, rewrite) for rewrite in work.rewrites)
            for recount in work.recounts:
                recounts[recount].append(event.event_id)
        upserts: list[tuple[list[str], Upsert]] = []
        if lookups:
            fetched = self._mget([(lookup.model, lookup.doc_id) for _, lookup in lookups])
            for (event_id, lookup), source in zip(lookups, fetched, strict=True):
                try:
                    if source is not None and (folded := lookup.fold(source)) is not None:
                        upserts.append(([event_id], folded))
                except Exception as exc:
                    refused.setdefault(event_id, f"lookup of {lookup.model} {lookup.doc_id} failed: {exc!r}")
        if recounts or rewrites:
            self._refresh()  # recounts and rewrites search: they must see the documents this batch wrote
            upserts.extend(self._searched_follow_ups(recounts, rewrites, refused))
        merged = _merge_by_document(upserts)
        results = self._upsert([upsert for _, upsert in merged], want_source=False)
        for (event_ids, upsert), result in zip(merged, results, strict=True):
            if isinstance(result, str):
                for event_id in event_ids:
                    refused.setdefault(event_id, f"follow-up write of {upsert.model} {upsert.doc_id} failed: {result}")
        return refused

    def _searched_follow_ups(
        self, recounts: dict[Recount, list[str]], rewrites: list[tuple[str, Rewrite]], refused: dict[str, str]
    ) -> list[tuple[list[str], Upsert]]:
        """Recounts and rewrites, found with one multi-search: the writes they need, with the events behind each.

        A rewrite reaching at most `fanout_page` documents is written as upserts of the documents found; a larger one
        (a rename reaching every post and comment of a prolific author) runs as an update_by_query task here. Why
        OpenSearch refused some for good is added to `refused`.
        """
        tick = self._tick() if recounts else 0  # before reading: the order-safety of the counts rests on it
        counting = recount_searches(recounts)
        grouped: dict[tuple[str, str], list[tuple[str, Rewrite]]] = defaultdict(list)
        for event_id, rewrite in rewrites:
            grouped[(rewrite.model, next(iter(rewrite.term)))].append((event_id, rewrite))
        body: list[dict[str, Any]] = []
        for search in counting:
            body.extend(({"index": self.targets[search.counter.members]}, search.body()))
        for (model, key_field), group in grouped.items():
            keys = sorted({rewrite.term[key_field] for _, rewrite in group})
            query = {"size": self.fanout_page + 1, "_source": [key_field], "query": {"terms": {key_field: keys}}}
            body.extend(({"index": self.targets[model]}, query))
        responses = self._call(lambda: self.client.msearch(body=body))["responses"] if body else []
        upserts: list[tuple[list[str], Upsert]] = []
        counted: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
        failed_owners: set[tuple[str, str]] = set()
        for search, response in zip(counting, responses[: len(counting)], strict=True):
            counter = search.counter
            if "error" in response:
                reason = f"recount of {counter.owner} {counter.field} failed: {str(response['error'])[:500]}"
                for owner_id in search.ids:
                    failed_owners.add((counter.owner, owner_id))
                    for event_id in recounts[Recount(counter.owner, owner_id)]:
                        refused.setdefault(event_id, reason)
                continue
            for owner_id, fields in counts_of(search, response).items():
                counted[(counter.owner, owner_id)].update(fields)
        for key in failed_owners:
            counted.pop(key, None)
        upserts.extend((recounts[Recount(u.model, u.doc_id)], u) for u in count_upserts(tick, counted))
        for ((model, key_field), group), response in zip(grouped.items(), responses[len(counting) :], strict=True):
            if "error" in response:
                reason = f"rewrite of {model} failed: {str(response['error'])[:500]}"
                refused.update((event_id, reason) for event_id, _ in group if event_id not in refused)
                continue
            hits = response["hits"]["hits"]
            if len(hits) > self.fanout_page:
                self._refresh(model)  # update_by_query searches: it must see the follow-ups written so far
                for event_id, reason in self._rewrite_halving(group).items():
                    refused.setdefault(event_id, reason)
                continue
            by_key: dict[str, list[tuple[str, Rewrite]]] = defaultdict(list)
            for event_id, rewrite in group:
                by_key[rewrite.term[key_field]].append((event_id, rewrite))
            for hit in hits:
                key = str(field_of(hit["_source"], key_field))
                for event_id, rewrite in by_key.get(key, ()):
                    upserts.append(([event_id], Upsert(model, hit["_id"], facets=(rewrite.facet,))))
        return upserts

    def _tick(self) -> int:
        """Advance the shared recount clock (`projector.consumer.counts.RecountClock`), retrying outages."""
        return self._call(self.clock.tick)

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
        body = {"query": query, "script": {"id": REWRITE_SCRIPT_ID, "params": params}}
        attempt = conflicted = 0
        while True:
            response = self._by_query(self.targets[model], body, splittable=len(rewrites) > 1)
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
            # A conflict means a document changed after the search's snapshot, and with periodic refreshes off (a
            # rebuild) only an explicit refresh lets the retry see it.
            self._refresh(model)

    def _by_query(self, index: str, body: dict[str, Any], *, splittable: bool) -> dict[str, Any]:
        """One update_by_query, run as a task and polled: however many documents it rewrites, no request waits long.

        Raises `Refused` when OpenSearch refuses it, or the task fails as a whole.
        """
        started = self._send(
            lambda: self.client.update_by_query(
                index=index, body=body, conflicts="proceed", refresh=True, wait_for_completion=False
            ),
            splittable=splittable,
        )
        task = started["task"]
        polls = 0
        while not (status := self._call(lambda: self.client.tasks.get(task_id=task))).get("completed"):
            polls += 1
            # Most tasks end within a second: poll finely that long (a doubling wait overshot by up to half of it),
            # then settle to a slower pace for the long ones.
            time.sleep(TASK_POLL_SECONDS if polls * TASK_POLL_SECONDS < 2 else 0.5)
        try:  # the result is kept in the `.tasks` index once read: drop it (a failure only leaves a small document)
            self.client.delete(index=".tasks", id=task)
        except TransportError as exc:
            log.debug("could not drop the result of task %s: %s", task, exc)
        if "error" in status:
            raise Refused(f"update_by_query failed: {str(status['error'])[:500]}")
        return status["response"]

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
            failed.append(Failed(item.event, refused.get(item.event.event_id, _held_behind(aggregate))))
    return kept, sorted(failed, key=lambda failure: position[failure.event.event_id])


def _held_behind(aggregate: tuple[str, str]) -> str:
    return f"held behind an earlier failed event of {aggregate[0]} {aggregate[1]}"


def _fold(upserts: list[Upsert]) -> Upsert:
    """Several upserts of one document, in order, as one (the script applies their facets in order)."""
    folded = upserts[0]
    for upsert in upserts[1:]:
        folded = folded.merged(upsert)
    return folded


def _merge_by_document(upserts: list[tuple[list[str], Upsert]]) -> list[tuple[list[str], Upsert]]:
    """Upserts of the same document as one, with the events each came from."""
    merged: dict[tuple[str, str], tuple[list[str], Upsert]] = {}
    for event_ids, upsert in upserts:
        key = (upsert.model, upsert.doc_id)
        if key in merged:
            before_ids, before = merged[key]
            merged[key] = ([*before_ids, *event_ids], before.merged(upsert))
        else:
            merged[key] = (list(event_ids), upsert)
    return list(merged.values())


def _superseded(event: EventEnvelope, document: dict[str, Any]) -> bool:
    """Whether the document written is past this event: a later event of its aggregate is applied too.

    A removal never is: a later event may keep the aggregate out of the lists, and subscribers must still drop it.
    """
    if event.event_type in REMOVALS:
        return False
    version_field = VERSION_FIELDS[event.aggregate_type][1]
    return document.get(version_field) != event.aggregate_version
