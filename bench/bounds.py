"""How long the command API takes to refuse what its bounds refuse, and tag normalization linear vs quadratic.

No service needed: the command service runs in this process on a scratch SQLite file, driven by DRF's test client,
so a timing is the server's whole handling of one request (middleware, parsing, validation, the error body) without
the network. Each case runs --samples times; min, median and max are printed in milliseconds, and a case the issue
gives a budget (60,000 tags refused within 50 ms, a 1 MiB body of any shape within 100 ms of server time) says
whether its median is within it; the bench exits 1 when a median is over its budget.
Run: `make bench-bounds` (or `uv run --frozen python -m bench.bounds --samples 7`).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

SCRATCH = tempfile.mkdtemp(prefix="bench-bounds-")
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
os.environ["DJANGO_SETTINGS_MODULE"] = "command_service.config.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH}/db.sqlite3"
from bench.stats import machine_line, median  # noqa: E402
from bench.support import THROTTLES_OFF  # noqa: E402  (one user sends every sample: no rate limit applies)

os.environ.update(THROTTLES_OFF)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.urls import reverse  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from command_service.domain import rules  # noqa: E402
from tests.api.bodies import SHAPES, huge_string  # noqa: E402

PASSWORD = "correct horse battery"


def _quadratic(tags: list[str]) -> list[str]:
    """Tag normalization as it was before issue 14 (a list membership test per tag), for comparison."""
    normalized: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if rules.TAG_RE.match(tag) and tag not in normalized:
            normalized.append(tag)
    return normalized


@contextlib.contextmanager
def _unbounded_input() -> Iterator[None]:
    """Lift the input count limit, to time the normalization itself on lists the API would refuse."""
    saved, rules.TAGS_INPUT_MAX = rules.TAGS_INPUT_MAX, 10**9
    try:
        yield
    finally:
        rules.TAGS_INPUT_MAX = saved


def _timed(run: Callable[[], Any], samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


BUDGETS_MS = {"60,000 tags": 50.0, "1 MiB": 100.0}  # a case's budget by the start of its name


def budget_of(case: str) -> float | None:
    """The server-time budget of a case in ms, or None for a case without one."""
    return next((budget for prefix, budget in BUDGETS_MS.items() if case.startswith(prefix)), None)


def _row(name: str, times: list[float], note: str = "", budget: float | None = None) -> bool:
    """Print one case; False when its median is over `budget` (ms)."""
    within = budget is None or median(times) <= budget
    verdict = "" if budget is None else f"  budget {budget:g}: {'within' if within else 'OVER'}"
    print(f"  {name:<52} {min(times):8.2f} {median(times):8.2f} {max(times):8.2f}  {note}{verdict}")
    return within


def _client() -> tuple[APIClient, int]:
    """A registered user's client, and one draft post of theirs."""
    client = APIClient()
    registered = client.post(
        reverse("api:user-register"),
        {"username": "bencher", "password": PASSWORD, "display_name": "Bencher"},
        format="json",
    )
    assert registered.status_code == 201, registered.content
    token = client.post(reverse("api:auth-token"), {"username": "bencher", "password": PASSWORD}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    post = client.post(reverse("api:post-create"), {"title": "t", "content": "c"}, format="json")
    return client, post.json()["id"]


def _request(client: APIClient, method: str, url: str, raw: bytes, expect: int) -> Callable[[], None]:
    def run() -> None:
        response = client.generic(method, url, raw, "application/json")
        assert response.status_code == expect, (response.status_code, response.content[:300])
        assert len(response.content) < 8192, len(response.content)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # every case is a refused request: no 4xx log lines
    call_command("migrate", verbosity=0)
    client, post_id = _client()
    create, tags_url = reverse("api:post-create"), reverse("api:post-tags", kwargs={"post_id": post_id})
    post = {"title": "t", "content": "c"}

    def body(**fields: Any) -> bytes:
        return json.dumps({**post, **fields}).encode()

    print(machine_line("before"), flush=True)
    print(f"command API, in process on SQLite, {args.samples} samples each (ms; median by nearest rank)")
    print(f"  {'case':<52} {'min':>8} {'median':>8} {'max':>8}  answer")
    api_cases = {
        "60,000 tags, create": ("POST", create, body(tags=[f"tag{n}" for n in range(60_000)]), 400),
        "60,000 tags, set": ("PUT", tags_url, json.dumps({"tags": [f"tag{n}" for n in range(60_000)]}).encode(), 400),
        "1,000 bad tags (at the input limit)": ("POST", create, body(tags=[f"Bad {n}" for n in range(1000)]), 400),
        "1,000 tags, 10 distinct (accepted)": ("POST", create, body(tags=[f"T{n % 10}" for n in range(1000)]), 201),
        **{f"1 MiB: {name}": ("POST", create, build(), 400) for name, build in SHAPES.items()},
        "1 MiB: a huge password (register)": (
            "POST", reverse("api:user-register"),
            huge_string("password", {"username": "someone", "display_name": "S"}), 400,
        ),
    }  # fmt: skip
    over = [
        name
        for name, (method, url, raw, expect) in api_cases.items()
        if not _row(
            name, _timed(_request(client, method, url, raw, expect), args.samples), str(expect), budget_of(name)
        )
    ]

    print("tag normalization alone (distinct valid tags, input count limit lifted), ms")
    with _unbounded_input():
        for count in (1_000, 5_000, 20_000, 60_000):
            tags = [f"tag{n}" for n in range(count)]
            linear = _timed(lambda tags=tags: rules.normalize_tags(rules.FieldErrors(), tags), args.samples)
            _row(f"{count:,} tags, linear (now)", linear)
            if count <= 5_000:  # the quadratic one takes seconds past this (23 s at 60,000)
                _row(f"{count:,} tags, quadratic (before)", _timed(lambda tags=tags: _quadratic(tags), args.samples))
    print(machine_line("after"))
    print(f"budgets: {len(over)} of {sum(budget_of(name) is not None for name in api_cases)} medians over", *over)
    if over:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
