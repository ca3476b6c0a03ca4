"""One query-service process serves HTTP requests side by side (uvicorn, real OpenSearch and Redis).

The views run on a pool of threads (`query_service.config.asgi`, QUERY_HTTP_THREADS): a read waiting for its
consistency token (up to QUERY_CONSISTENCY_WAIT_SECONDS) holds one of them, and a plain list still answers meanwhile.
"""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.integration.query_service.conftest import Story
from tests.integration.query_service.stream_support import server_processes

WAIT_SECONDS = 6  # the token wait of the slow request: far longer than a list takes


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, dict]:
    """One GET on its own connection: (status, headers (names in any case), JSON body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, json.loads(response.read())
    finally:
        connection.close()


def test_a_list_answers_while_another_request_of_the_same_process_waits_for_its_token(
    story: Story, tmp_path: Path
) -> None:
    ada = story.register("ada")
    story.post(ada, "Served side by side")
    story.project()
    env = {"QUERY_CONSISTENCY_WAIT_SECONDS": str(WAIT_SECONDS)}
    with server_processes(story.prefix, tmp_path, **env) as port, ThreadPoolExecutor(2) as pool:
        waiting = pool.submit(get, port, "/api/v1/posts/", {"X-Consistency-Token": "post:999999:1"})
        time.sleep(0.5)  # lets the waiting request reach its view first (it orders the two; it proves nothing)
        status, _, body = get(port, "/api/v1/posts/")
        assert status == 200
        assert [post["title"] for post in body["results"]] == ["Served side by side"]
        assert not waiting.done()  # answered while the other request still waits, in the same single process
        status, headers, body = waiting.result(timeout=WAIT_SECONDS + 20)
    assert status == 200
    assert headers["X-Consistency-Status"] == "stale"  # an unknown version: the whole wait, then what there is
    assert [post["title"] for post in body["results"]] == ["Served side by side"]
