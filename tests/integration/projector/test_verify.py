"""`verify` on real OpenSearch and the test database: a faithful projection is clean, every kind of drift is named.

The story (`record_scenario`) is written with the command service's own code and projected with the real writer;
the read side then reads the committed rows over its own DB-API connection, as `python -m projector verify` does.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from command_service.apps.comments.models import Comment
from command_service.apps.posts.models import Post, Tag
from command_service.apps.users.models import User
from projector.operations.source import MODELS, CommandSource, utc_text
from projector.operations.verify import NOT_COMPARED, Report, verify
from read_models.models import READ_MODELS
from tests.integration.projector.conftest import ReadModels, Scenario

REPO_ROOT = Path(__file__).resolve().parents[3]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def database_url() -> str:
    """The test database (pytest-django's `test_<name>`) as a URL for a connection of our own."""
    if connection.vendor != "postgresql":
        pytest.fail("the projector integration tests need DATABASE_URL to name PostgreSQL; run `make test`")
    s = connection.settings_dict
    user, password = quote(s["USER"] or "", safe=""), quote(s["PASSWORD"] or "", safe="")
    return f"postgresql://{user}:{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.fixture
def projected(scenario: Scenario, new_read_models: Any) -> ReadModels:
    """The scenario applied in one batch to fresh read models."""
    models = new_read_models()
    _, failed = models.writer().apply(scenario.events)
    assert failed == []
    return models


def run_verify(models: ReadModels, limit: int | None = None) -> Report:
    with CommandSource(database_url()) as source:
        return verify(models.client, models.targets, source, limit=limit)


def run_cli(models: ReadModels, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url(), "PROJECTOR_INDEX_PREFIX": models.prefix}
    return subprocess.run(
        [sys.executable, "-m", "projector", "verify", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def expected(model: str) -> dict[str, dict[str, Any]]:
    with CommandSource(database_url(), chunk=2) as source:
        return {doc["id"]: doc for doc in itertools.chain.from_iterable(source.documents(model))}


def test_a_faithful_projection_verifies_clean(projected: ReadModels) -> None:
    report = run_verify(projected)

    assert report.ok, report.text()
    counts = {model: (c.rows, c.documents, c.matched, c.never_projected) for model, c in report.counts.items()}
    assert counts == {"posts": (5, 5, 5, 0), "comments": (5, 5, 5, 0), "authors": (2, 2, 2, 0)}
    done = run_cli(projected)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: every document matches the command database" in done.stdout
    assert "verify posts" in done.stderr  # the progress bar


def test_expected_documents_are_the_story_as_the_database_tells_it(scenario: Scenario) -> None:
    """Pinned by hand, so the source is not just checked against the projector it is meant to check."""
    posts, comments, authors = expected("posts"), expected("comments"), expected("authors")
    ada, bob = str(scenario.ada.user_id), str(scenario.bob.user_id)
    pid = {name: str(i) for name, i in scenario.post_ids.items()}
    cid = {name: str(i) for name, i in scenario.comment_ids.items()}

    first = posts[pid["first"]]
    assert first["title"] == "First, edited"
    assert first["tags"] == ["django", "python"]
    assert (first["reading_time"], first["content_preview"][-1]) == (1, "…")
    assert first["comment_count"] == 2  # "removed" is deleted
    assert first["last_commented_at"] == comments[cid["edited"]]["created_at"]
    assert first["author"] == {
        "id": ada, "username": "ada", "display_name": "Ada L.", "avatar_url": "https://img.example/ada.png"
    }  # fmt: skip
    assert (first["author_version"], first["post_version"]) == (2, 4)
    [publication] = [e for e in scenario.events if (e.event_type, e.aggregate_id) == ("post.published", pid["second"])]
    second = posts[pid["second"]]  # unpublished: a draft again, which keeps when it was published
    assert second["status"] == "draft"
    assert datetime.fromisoformat(second["published_at"]) == publication.payload.published_at
    assert posts[pid["third"]]["status"] == "archived"
    assert posts[pid["third"]]["author"]["avatar_url"] is None
    doomed = posts[pid["doomed"]]
    assert (doomed["status"], doomed["deleted"], doomed["comment_count"]) == ("deleted", True, 1)
    assert posts[pid["later"]]["last_commented_at"] == comments[cid["late"]]["created_at"]

    assert comments[cid["edited"]]["body"] == "Fixed"
    assert comments[cid["kept"]]["post_title"] == "First, edited"
    assert (comments[cid["removed"]]["deleted"], comments[cid["removed"]]["comment_version"]) == (True, 2)
    # a comment of a deleted post shows no title: the post's tombstone keeps none, nor do copies of it
    assert (comments[cid["orphan"]]["post_deleted"], comments[cid["orphan"]]["post_title"]) == (True, None)

    # Published: first and later (ada); bob's third is archived, doomed deleted. Comments: every live one, on
    # deleted posts too (ada's "orphan"), as the projector's membership maps count them.
    assert {k: authors[ada][k] for k in ("published_post_count", "comment_count", "user_version")} == {
        "published_post_count": 2, "comment_count": 1, "user_version": 2
    }  # fmt: skip
    assert (authors[bob]["published_post_count"], authors[bob]["comment_count"], authors[bob]["bio"]) == (
        0, 3, "Writes things"
    )  # fmt: skip

    row = Post.objects.get(pk=scenario.post_ids["first"])
    assert first["created_at"] == row.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for doc in itertools.chain(posts.values(), comments.values()):
        assert ISO.match(doc["created_at"])
        assert ISO.match(doc["updated_at"])


def test_sqlite_and_postgresql_give_the_same_documents(scenario: Scenario, tmp_path: Path) -> None:
    """The embedded default database (Django's SQLite layout: naive UTC text times, 0/1 booleans) reads the same."""
    path = tmp_path / "command.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, display_name TEXT, avatar_url TEXT, bio TEXT,
                            version INTEGER);
        CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER, title TEXT, content TEXT, status TEXT,
                            version INTEGER, created_at DATETIME, updated_at DATETIME, published_at DATETIME);
        CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE posts_tags (id INTEGER PRIMARY KEY, post_id INTEGER, tag_id INTEGER);
        CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER, author_id INTEGER, body TEXT,
                               is_deleted BOOL, version INTEGER, created_at DATETIME, updated_at DATETIME);
    """)

    def text(moment: Any) -> Any:  # what Django's SQLite backend stores: str() of the naive UTC time
        return None if moment is None else str(moment.replace(tzinfo=None))

    def copy(table: str, queryset: Any, *fields: str) -> None:
        rows = [tuple(text(v) if hasattr(v, "tzinfo") else v for v in row) for row in queryset.values_list(*fields)]
        db.executemany(f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))})", rows)

    copy("users", User.objects, "id", "username", "display_name", "avatar_url", "bio", "version")
    post_fields = ("id", "author_id", "title", "content", "status", "version", "created_at", "updated_at")
    copy("posts", Post.objects, *post_fields, "published_at")
    copy("tags", Tag.objects, "id", "name")
    copy("posts_tags", Post.tags.through.objects, "id", "post_id", "tag_id")
    fields = ("id", "post_id", "author_id", "body", "is_deleted", "version", "created_at", "updated_at")
    copy("comments", Comment.objects, *fields)
    db.commit()
    db.close()

    with CommandSource(f"sqlite:///{path}", chunk=2) as lite:
        for model in MODELS:
            assert list(itertools.chain.from_iterable(lite.documents(model))) == list(expected(model).values())
    assert utc_text("2026-01-02 03:04:05") == "2026-01-02T03:04:05.000000Z"  # Django drops a zero fraction


def test_every_mapped_field_is_compared_or_said_not_to_be(scenario: Scenario) -> None:
    for model in READ_MODELS:
        mapped = set(model.mappings["properties"])
        (sample, *_) = expected(model.name).values()
        assert set(sample) <= mapped, f"{model.name}: the source builds fields the mapping lacks"
        assert mapped <= set(sample) | set(NOT_COMPARED[model.name]), f"{model.name}: a mapped field nobody checks"


def test_missing_extra_and_stale_documents_are_named(projected: ReadModels, scenario: Scenario) -> None:
    client, targets = projected.client, projected.targets
    pid = {name: str(i) for name, i in scenario.post_ids.items()}
    cid = {name: str(i) for name, i in scenario.comment_ids.items()}
    client.delete(index=targets["posts"], id=pid["later"], refresh=True)
    client.index(index=targets["comments"], id="987654321", body={"id": "987654321", "body": "?"}, refresh=True)
    client.update(index=targets["posts"], id=pid["first"], body={"doc": {"author": {"display_name": "Ada"}}},
                  refresh=True)  # fmt: skip
    client.update(index=targets["comments"], id=cid["edited"], body={"doc": {"body": "Typo"}}, refresh=True)
    bob = str(scenario.bob.user_id)
    client.update(index=targets["authors"], id=bob, body={"doc": {"comment_count": 7}}, refresh=True)

    report = run_verify(projected)

    assert not report.ok
    tally = {model: (c.missing, c.extra, c.stale) for model, c in report.counts.items()}
    assert tally == {"posts": (1, 0, 1), "comments": (0, 1, 1), "authors": (0, 0, 1)}
    assert report.find("posts", pid["later"]).kind == "missing"
    assert report.find("comments", "987654321").kind == "extra"
    assert report.find("posts", pid["first"]).fields == {"author.display_name": ("Ada L.", "Ada")}
    assert report.find("comments", cid["edited"]).fields == {"body": ("Fixed", "Typo")}
    assert report.find("authors", bob).fields == {"comment_count": (3, 7)}

    done = run_cli(projected)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"missing  posts {pid['later']}" in done.stdout
    assert "extra    comments 987654321" in done.stdout
    assert f"stale    posts {pid['first']}\n    author.display_name: expected 'Ada L.', actual 'Ada'" in done.stdout
    assert "MISMATCH: 5 documents differ" in done.stdout

    terse = run_cli(projected, "--limit", "0")
    assert terse.returncode == 1
    assert "author.display_name" not in terse.stdout
    assert "... and 1 more stale posts not listed (raise --limit)" in terse.stdout


def test_tombstones_match_on_their_version_and_deleted_rows_may_have_no_document(
    projected: ReadModels, scenario: Scenario
) -> None:
    client, targets = projected.client, projected.targets
    doomed, removed = str(scenario.post_ids["doomed"]), str(scenario.comment_ids["removed"])
    client.delete(index=targets["comments"], id=removed, refresh=True)
    client.update(index=targets["posts"], id=doomed, body={"doc": {"title": "never served"}}, refresh=True)

    report = run_verify(projected)
    assert report.ok, report.text()
    assert report.counts["comments"].never_projected == 1

    client.update(index=targets["posts"], id=doomed, body={"doc": {"post_version": 2}}, refresh=True)
    assert run_verify(projected).find("posts", doomed).fields == {"post_version": (3, 2)}

    client.update(index=targets["posts"], id=doomed, body={"doc": {"deleted": False, "status": "published"}},
                  refresh=True)  # fmt: skip
    revived = run_verify(projected).find("posts", doomed)  # no longer a tombstone: the text it dropped is missing
    dropped = {"content", "content_preview", "tags", "author.username", "author.display_name"}
    assert (revived.kind, set(revived.fields)) == ("stale", {"deleted", "status", "title", "post_version", *dropped})


def test_without_read_models_there_is_nothing_to_verify(db: None, new_read_models: Any) -> None:
    models = new_read_models()
    models.client.indices.delete(index=f"{models.prefix}*")
    done = run_cli(models)
    assert done.returncode == 2
    assert "nothing to verify" in done.stderr
