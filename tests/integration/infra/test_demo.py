"""`python -m infra.demo` against a real command service process (gunicorn on a SQLite file): the demo data is
there afterwards, as the API shows it, and a second run adds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.demo import DemoSummary, seed
from infra.demo_data import COMMENTS, DELETED_COMMENT, PASSWORD, POSTS, RENAME, TAG_CHANGE, USERS
from infra.http_client import ApiClient, ApiError
from infra.process import wait_until
from tests.integration.infra.helpers import REPO_ROOT, SHARED_VARS, free_ports


def _healthy(api: ApiClient) -> bool:
    try:
        return api.call("GET", "/health/").status == 200
    except ApiError:  # not listening yet
        return False


@pytest.fixture
def command_url(tmp_path: Path) -> Iterator[str]:
    """The command API of a gunicorn process on a fresh SQLite database."""
    env = {key: value for key, value in os.environ.items() if key not in SHARED_VARS}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'command.sqlite3'}"
    env["PROJECTOR_INDEX_PREFIX"] = f"demo-{uuid.uuid4().hex[:8]}-"  # rate-limit counters of this run alone
    migrate = [sys.executable, "-m", "command_service", "migrate", "--noinput", "-v0"]
    subprocess.run(migrate, cwd=REPO_ROOT, env=env, check=True, timeout=120)
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    with (tmp_path / "gunicorn.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "command_service.config.wsgi:application", "--bind", url[7:],
             "--worker-class", "gthread", "--workers", "1", "--threads", "4", "--no-control-socket"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        assert wait_until(lambda: _healthy(ApiClient(url)), timeout=60, interval=0.2), tmp_path / "gunicorn.log"
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _demo_cli(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.demo", "--url", url], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_the_demo_data_is_there_through_the_api_and_a_second_run_adds_nothing(command_url: str) -> None:
    first = _demo_cli(command_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count(": registered") == len(USERS)
    assert "renamed: 'Tom Okafor' -> 'Tomás Okafor'" in first.stdout

    summary: DemoSummary = seed(command_url)  # the second run, in this process to learn the ids

    api = ApiClient(command_url)
    for username, _ in USERS:
        user = api.call("GET", f"/api/v1/users/{summary.users[username]}/").expect(200, what="a user").body
        assert user["username"] == username
    renamed = api.call("GET", f"/api/v1/users/{summary.users[RENAME[0]]}/").body
    assert (renamed["display_name"], renamed["bio"]) == RENAME[1:]

    retagged, new_tags = TAG_CHANGE
    for post in POSTS:
        path = f"/api/v1/posts/{summary.posts[post.key]}/"
        if not post.publish:
            assert api.call("GET", path).status == 404  # a draft: only its author sees it
            token = api.call("POST", "/api/v1/auth/token/", {"username": post.author, "password": PASSWORD}).body
            assert api.call("GET", path, token=token["token"]).expect(200, what="a draft").body["status"] == "draft"
            continue
        body = api.call("GET", path).expect(200, what=f"post {post.key}").body
        assert (body["title"], body["status"], body["author"]["username"]) == (post.title, "published", post.author)
        assert body["tags"] == sorted(new_tags if post.key == retagged else post.tags)
    outbox = api.call("GET", f"/api/v1/posts/{summary.posts['outbox']}/").body
    assert outbox["comment_count"] == sum(1 for comment in COMMENTS if comment[1] == "outbox")

    for n, (author, _, text) in enumerate(COMMENTS):
        reply = api.call("GET", f"/api/v1/comments/{summary.comments[n]}/")
        if n == DELETED_COMMENT:
            assert reply.status == 404
            continue
        assert (reply.status, reply.body["body"], reply.body["author"]["username"]) == (200, text, author)
    by_renamed = next(n for n, comment in enumerate(COMMENTS) if comment[0] == RENAME[0])
    assert (
        api.call("GET", f"/api/v1/comments/{summary.comments[by_renamed]}/").body["author"]["display_name"]
        == (RENAME[1])
    )

    # The second run replayed every creation: no post or comment beyond the first run's.
    assert api.call("GET", f"/api/v1/posts/{max(summary.posts.values()) + 1}/").status == 404
    assert api.call("GET", f"/api/v1/comments/{max(summary.comments) + 1}/").status == 404
    assert sorted(summary.posts.values()) == list(range(1, len(POSTS) + 1))
