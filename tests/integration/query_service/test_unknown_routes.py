"""Routes the query service has no view for answer the one error body (JSON 404) in both DEBUG modes, and keep the
headers a browser needs (CORS for an allowed origin, frame denial)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

ORIGIN = "https://app.example.org"


@pytest.mark.parametrize("debug", [False, True], ids=["production-like", "debug"])
@pytest.mark.parametrize("path", ["/api/v1/posts/null,null/", "/api/v1/nowhere/", "/api/v2/posts/", "/favicon.ico"])
def test_an_unknown_route_is_a_json_404_with_the_headers_of_the_page(
    api: APIClient, settings: Any, debug: bool, path: str
) -> None:
    settings.DEBUG = debug
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    response = api.get(path, headers={"Origin": ORIGIN})

    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"message": "Not found.", "fields": {}}
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["X-Frame-Options"] == "DENY"


def test_a_write_method_on_a_read_route_is_a_json_405(api: APIClient) -> None:
    response = api.post("/api/v1/posts/", {}, format="json")

    assert response.status_code == 405
    assert set(response.json()) == {"message", "fields"}
    assert "GET" in response["Allow"]
