"""The query service's gateway to OpenSearch: searches of the read models through their aliases, with failures
mapped to one error.

The models and their aliases are the read-model contract's (`read_models`); this module adds searching them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

from query_service.search.cursors import cursor_decode, cursor_encode
from query_service.search.errors import InvalidParameter, ReadModelUnavailable
from read_models.indices import alias_of
from read_models.models import MODELS_BY_NAME

log = logging.getLogger(__name__)
TOTAL_HITS_LIMIT = 10_000  # totals are exact up to here, then "at least"


def alias(name: str) -> str:
    """The alias that serves read model `name` (posts, comments, authors)."""
    return alias_of(MODELS_BY_NAME[name])


@contextmanager
def opensearch_errors() -> Iterator[None]:
    """Turn OpenSearch failures into ReadModelUnavailable (or InvalidParameter when it refused the query)."""
    try:
        yield
    except NotFoundError as error:
        raise ReadModelUnavailable("the read model does not exist yet (has the projector started?)") from error
    except RequestError as error:  # every parameter is validated first: this is a safety net, not a path
        log.warning("OpenSearch refused a query: %s", error)
        raise InvalidParameter("query", "cannot be run with these parameters") from error
    except (OpenSearchConnectionError, TransportError) as error:
        raise ReadModelUnavailable("the search cluster is unavailable") from error


def search(client: OpenSearch, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run a search on read model `name`; raises ReadModelUnavailable or InvalidParameter."""
    with opensearch_errors():
        return client.search(index=alias(name), body=body)


def get_source(client: OpenSearch, name: str, doc_id: str, fields: list[str] | None = None) -> dict[str, Any] | None:
    """The searchable `_source` of one document (or None): a search, not a realtime get, so it sees what lists see."""
    body: dict[str, Any] = {"query": {"ids": {"values": [doc_id]}}, "size": 1}
    if fields is not None:
        body["_source"] = fields
    hits = search(client, name, body)["hits"]["hits"]
    return hits[0]["_source"] if hits else None


def page_body(body: dict[str, Any], *, key: str, cursor: str | None) -> dict[str, Any]:
    """A page's search body as sent: `body` (with its `sort`) plus the total's bound and the cursor's `search_after`
    (checked against `key`, the query the cursor was issued for; raises InvalidParameter)."""
    body = {**body, "track_total_hits": TOTAL_HITS_LIMIT}
    if cursor:
        body["search_after"] = cursor_decode(cursor, key, len(body["sort"]))
    return body


def paged_search(
    client: OpenSearch,
    name: str,
    body: dict[str, Any],
    *,
    key: str,
    cursor: str | None,
    shape: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """One `search_after` page of read model `name`: {"results", "next_cursor", "total", "total_is_exact"}.

    Args:
        client: the OpenSearch client.
        name: the read model.
        body: the search body with its `sort` (ending in a unique tiebreaker) and `size`.
        key: the query key that binds cursors to this query (`query_key`).
        cursor: the previous page's `next_cursor`, or None.
        shape: turns a hit into the public result.
    """
    body = page_body(body, key=key, cursor=cursor)
    hits = search(client, name, body)["hits"]
    last = hits["hits"][-1]["sort"] if hits["hits"] and len(hits["hits"]) == body["size"] else None
    return {
        "results": [shape(hit) for hit in hits["hits"]],
        "next_cursor": cursor_encode(key, last) if last else None,
        "total": hits["total"]["value"],
        "total_is_exact": hits["total"]["relation"] == "eq",
    }


def with_version(source: dict[str, Any], field: str) -> dict[str, Any]:
    """A document's public form: its aggregate-version field renamed `version`."""
    out = dict(source)
    out["version"] = out.pop(field, None)
    return out
