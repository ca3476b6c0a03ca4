"""One transaction per write request: a POST with an Idempotency-Key holds its unit of work's transaction around the
view, and the unit joins it instead of nesting a savepoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.helpers import Account


def _savepoints(queries: CaptureQueriesContext) -> int:
    return sum(query["sql"].startswith("SAVEPOINT") for query in queries.captured_queries)


@pytest.mark.parametrize("headers", [{}, {"HTTP_IDEMPOTENCY_KEY": "one-transaction"}], ids=["no-key", "key"])
def test_a_write_opens_one_transaction(alice: Account, make_post: Callable[..., Any], headers: dict[str, str]) -> None:
    post_id = make_post(alice.client)["id"]
    url = reverse("api:comment-add", kwargs={"post_id": post_id})

    with CaptureQueriesContext(connection) as queries:
        response = alice.client.post(url, {"body": "hi"}, format="json", **headers)

    assert response.status_code == 201
    assert _savepoints(queries) == 1  # the request's transaction: a savepoint only because the test runs in one
