"""OWASP API4:2023, unrestricted resource consumption, probed over HTTP and WebSocket on the running system.

Every bound is met from outside, as an attacker would: bodies too big, lists too long, JSON too deep or too wide,
pages too large, too many stream connections from one address and subscribe floods. Each is refused (or capped) with
the documented answer: a 4xx with the `{message, fields}` body for HTTP, the documented close code for the stream.

The stream's limits count per client address over a minute, and every other test connects from 127.0.0.1: the
stream probes here connect from loopback addresses of their own (Linux routes all of 127.0.0.0/8 to loopback, and
uvicorn trusts proxy headers from 127.0.0.1 only, so the service sees the socket's peer), and so leave nothing
counted against anyone else.
"""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Callable, Iterator

import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from events.stream import CloseCode
from read_models.keys import stream_clients_key, stream_subscribes_key
from runtime.settings import redis_url
from tests.e2e.conftest import E2E_ANONYMOUS_READS_PER_MINUTE, E2E_WRITES_PER_MINUTE, Answer, System, eventually

MiB = 1024 * 1024
STREAM_MAX_CONNECTIONS_PER_CLIENT = 20  # the query service's defaults, which the e2e system runs with
STREAM_MAX_SUBSCRIBES_PER_MINUTE = 30
STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE = 120
CONNECTIONS_PROBE, FLOOD_PROBE, CLIENT_FLOOD, CLIENT_BESIDE = "127.0.0.41", "127.0.0.42", "127.0.0.43", "127.0.0.44"
NOTHING = {"type": "subscribe", "aggregate_types": ["user"], "author_id": "999999999"}  # no event ever matches


@pytest.fixture(scope="module")
def token(system: System) -> str:
    return system.user("api4_writer", "Api Four")[1]


def raw_post(system: System, path: str, body: bytes, token: str) -> Answer:
    """POST bytes as they are (no JSON encoding on our side) to the command API."""
    conn = http.client.HTTPConnection("127.0.0.1", system.command_port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
    conn.request("POST", f"/api/v1/{path}", body=body, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    return Answer(response.status, dict(response.getheaders()), json.loads(raw) if raw else None)


def refused(answer: Answer, status: int) -> None:
    assert answer.status == status, answer.body
    assert set(answer.body) == {"message", "fields"}, answer.body


def test_a_body_over_1_mib_is_a_413(system: System, token: str) -> None:
    body = {"title": "Huge", "content": "x" * (MiB + 100), "tags": []}
    refused(system.command("POST", "posts/", body, token), 413)


def test_60000_tags_are_a_400_with_a_bounded_error_body(system: System, token: str) -> None:
    answer = system.command("POST", "posts/", {"title": "Tags", "content": "c", "tags": ["t"] * 60_000}, token)
    refused(answer, 400)
    assert "tags" in answer.body["fields"]
    assert len(json.dumps(answer.body)) < 2048  # one message, not one per tag


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b', "content": "c", "tags": []}',  # deep
        json.dumps({"title": "t", "content": "c", "tags": [], **{f"k{n}": n for n in range(20_000)}}).encode(),  # wide
        b'{"title": "t", "content": "c", "tags": [' + b",".join([b"{}"] * 100_000) + b"]}",  # many objects
    ],
    ids=["deeply-nested", "20000-members", "100000-objects"],
)
def test_json_too_deep_or_too_wide_is_a_400(system: System, token: str, body: bytes) -> None:
    assert len(body) < MiB  # within the size bound: refused for its shape
    refused(raw_post(system, "posts/", body, token), 400)


@pytest.mark.parametrize("route", ["posts/", "authors/"])
def test_a_page_size_over_the_maximum_is_capped(system: System, route: str) -> None:
    # OpenSearch refuses a page over 10,000 hits: only a capped size gets a 200 here.
    answer = system.query(route, {"page_size": 1_000_000})
    assert answer.status == 200, answer.body
    assert len(answer.body["results"]) <= 100
    refused(system.query(route, {"page_size": 0}), 400)


def stream(system: System, source: str) -> ClientConnection:
    """A stream connection from loopback address `source` (the client address the service counts it under)."""
    return connect(f"ws://127.0.0.1:{system.query_port}/stream", open_timeout=10, source_address=(source, 0))


@pytest.fixture
def forget(system: System, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Register client addresses whose stream counts in the system's Redis are deleted after the test (its windows
    would last a minute)."""
    addresses: list[str] = []
    yield addresses.append
    monkeypatch.setenv("PROJECTOR_INDEX_PREFIX", system.env["PROJECTOR_INDEX_PREFIX"])  # the system's key names
    client = redis.Redis.from_url(redis_url())
    for address in addresses:
        client.delete(stream_clients_key(address), stream_subscribes_key(address))
    client.close()


def in_force(system: System, source: str) -> ClientConnection:
    """A stream connection from `source` whose subscription is in force (the answer to a later bad frame came)."""
    socket = stream(system, source)
    socket.send(json.dumps(NOTHING))
    socket.send(json.dumps({"type": "confirm"}))
    assert json.loads(socket.recv(timeout=10))["type"] == "error"
    return socket


def close_code_of(socket: ClientConnection) -> int | None:
    """Read until the server closes the connection (it must, within 10 s a frame); its close code."""
    try:
        while True:
            socket.recv(timeout=10)
    except ConnectionClosed:
        return socket.close_code


def test_stream_connections_over_the_per_client_limit_are_closed_with_4028(
    system: System, forget: Callable[[str], None]
) -> None:
    forget(CONNECTIONS_PROBE)

    def probe() -> tuple[int, int | None] | None:
        """Open connections until one is closed; (connections in force, its code) once exactly the limit got in
        (a connection of an earlier try may still hold its lease for a moment: then try again)."""
        held: list[ClientConnection] = []
        try:
            while len(held) <= STREAM_MAX_CONNECTIONS_PER_CLIENT:
                try:
                    held.append(in_force(system, CONNECTIONS_PROBE))
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else None
                    return (len(held), code) if len(held) == STREAM_MAX_CONNECTIONS_PER_CLIENT else None
            return (len(held), None)  # one over the limit got in
        finally:
            for socket in held:
                socket.close()

    accepted, code = eventually(probe, timeout=30, pause=0.5)
    assert (accepted, code) == (STREAM_MAX_CONNECTIONS_PER_CLIENT, CloseCode.TOO_MANY_CONNECTIONS)


def test_a_subscribe_flood_is_closed_with_4029(system: System, forget: Callable[[str], None]) -> None:
    forget(FLOOD_PROBE)
    with stream(system, FLOOD_PROBE) as socket:
        for _ in range(STREAM_MAX_SUBSCRIBES_PER_MINUTE + 1):
            socket.send(json.dumps(NOTHING))
        assert close_code_of(socket) == CloseCode.TOO_MANY_SUBSCRIBES
        limit = STREAM_MAX_SUBSCRIBES_PER_MINUTE
        assert socket.close_reason == f"at most {limit} subscribe frames a minute on one connection"


def test_subscribe_frames_from_one_address_over_all_its_connections_are_closed_with_4029(
    system: System, forget: Callable[[str], None]
) -> None:
    forget(CLIENT_FLOOD)
    forget(CLIENT_BESIDE)
    busy = STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE // STREAM_MAX_SUBSCRIBES_PER_MINUTE  # connections to use it up
    with contextlib.ExitStack() as opened:
        held = [opened.enter_context(stream(system, CLIENT_FLOOD)) for _ in range(busy + 1)]
        for socket in held[:busy]:  # each under its own limit, together the address's whole minute
            for _ in range(STREAM_MAX_SUBSCRIBES_PER_MINUTE):
                socket.send(json.dumps(NOTHING))
            socket.send(json.dumps({"type": "confirm"}))  # answered once every frame before it was handled
            assert json.loads(socket.recv(timeout=10))["type"] == "error"
        held[busy].send(json.dumps(NOTHING))  # the address's frame 121, this connection's first
        assert close_code_of(held[busy]) == CloseCode.TOO_MANY_SUBSCRIBES
        limit = STREAM_MAX_SUBSCRIBES_PER_CLIENT_PER_MINUTE
        assert held[busy].close_reason == f"at most {limit} subscribe frames a minute from one client address"
        in_force(system, CLIENT_BESIDE).close()  # another address subscribes as ever


# ---- Rate limits (issue 14, item 2): a client that sends too much is told to wait ----------------------------------


def throttled(answer: Answer) -> None:
    refused(answer, 429)
    assert int(answer.headers["retry-after"]) >= 1, answer.headers


def test_a_user_writing_too_fast_is_told_to_wait_and_others_are_not(system: System) -> None:
    user_id, hasty = system.user("api4_hasty", "Hasty Writer")
    _, calm = system.user("api4_calm", "Calm Writer")
    answers = [system.command("PATCH", f"users/{user_id}/", {"bio": f"note {n}"}, hasty)
               for n in range(E2E_WRITES_PER_MINUTE + 1)]  # fmt: skip

    assert [a.status for a in answers[:-1]] == [200] * E2E_WRITES_PER_MINUTE
    throttled(answers[-1])
    post = system.command("POST", "posts/", {"title": "Calm", "content": "One post.", "tags": []}, calm)
    assert post.status == 201, post.body  # the limit is per user


def test_an_anonymous_client_reading_too_fast_is_told_to_wait_and_other_addresses_are_not(system: System) -> None:
    user_id, _ = system.user("api4_read_target", "Read Target")
    behind_proxy = {"X-Forwarded-For": "198.51.100.14"}  # the address the trusted proxy saw
    answers = [
        system.command("GET", f"users/{user_id}/", **behind_proxy) for _ in range(E2E_ANONYMOUS_READS_PER_MINUTE + 1)
    ]

    assert [a.status for a in answers[:-1]] == [200] * E2E_ANONYMOUS_READS_PER_MINUTE
    throttled(answers[-1])
    assert system.command("GET", f"users/{user_id}/", **{"X-Forwarded-For": "198.51.100.15"}).status == 200
