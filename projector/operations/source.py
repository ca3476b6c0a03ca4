"""What the read models should contain, read straight from the command database (read-only, no Django).

The projector never imports the command service, so this reads the command side's tables (`users`, `posts`,
`tags`, `posts_tags`, `comments`) with plain DB-API over DATABASE_URL: sqlite3 for `sqlite:///path`, psycopg for
`postgresql://`. Documents come out in id order, a chunk at a time, each built exactly as the projector builds it
once every event has been applied (same preview, reading time and time format, see `projector.consumer.documents`).

A comment of a deleted post shows no post title (the projector's tombstones keep no text, nor do copies of it).
Counts mirror the projector's membership maps: a post counts its live comments (deleted post or not), an author
their published posts and all their live comments (on deleted posts too: the projector never drops those).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from projector.consumer.documents import content_preview, iso, reading_time
from runtime.settings import database_url

CHUNK = 500  # rows per query, and documents per mget: posts carry their whole content
MODELS = ("posts", "comments", "authors")

POSTS = """
SELECT p.id, p.title, p.content, p.status, p.version, p.created_at, p.updated_at, p.published_at,
       u.id, u.username, u.display_name, u.avatar_url, u.version
FROM posts p JOIN users u ON u.id = p.author_id
WHERE p.id > %s ORDER BY p.id LIMIT %s
"""
POST_TAGS = """
SELECT pt.post_id, t.name FROM posts_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id BETWEEN %s AND %s
"""
POST_COMMENTS = """
SELECT post_id, COUNT(*), MAX(created_at) FROM comments
WHERE is_deleted = %s AND post_id BETWEEN %s AND %s GROUP BY post_id
"""
COMMENTS = """
SELECT c.id, c.post_id, c.body, c.is_deleted, c.version, c.created_at, c.updated_at, p.title, p.status,
       u.id, u.username, u.display_name, u.avatar_url, u.version
FROM comments c JOIN posts p ON p.id = c.post_id JOIN users u ON u.id = c.author_id
WHERE c.id > %s ORDER BY c.id LIMIT %s
"""
USERS = "SELECT id, username, display_name, avatar_url, bio, version FROM users WHERE id > %s ORDER BY id LIMIT %s"
AUTHOR_POSTS = """
SELECT author_id, COUNT(*) FROM posts WHERE status = 'published' AND author_id BETWEEN %s AND %s GROUP BY author_id
"""
AUTHOR_COMMENTS = """
SELECT author_id, COUNT(*) FROM comments WHERE is_deleted = %s AND author_id BETWEEN %s AND %s GROUP BY author_id
"""
TABLE_OF = {"posts": "posts", "comments": "comments", "authors": "users"}


def utc_text(value: datetime | str | None) -> str | None:
    """A database time as the projector writes it; SQLite gives naive UTC text, PostgreSQL aware datetimes."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment.astimezone(UTC))


def _author(user_id: int, username: str, display_name: str, avatar_url: str | None) -> dict[str, Any]:
    return {"id": str(user_id), "username": username, "display_name": display_name, "avatar_url": avatar_url or None}


def connect(url: str) -> Any:
    """A read-only DB-API connection to `url` (`sqlite:///path` or `postgresql://...`)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)[1:]  # as dj_database_url reads it: sqlite:////abs/path, sqlite:///relative
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("BEGIN")  # one read snapshot (from the first SELECT) until the connection closes
        return conn
    if parts.scheme in ("postgres", "postgresql"):
        import psycopg

        conn = psycopg.connect(url)
        # One snapshot for the whole comparison: rows committed meanwhile do not make it inconsistent.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        return conn
    raise ValueError(f"unsupported DATABASE_URL scheme {parts.scheme!r} (sqlite or postgresql)")


class CommandSource:
    """The command database seen as expected read-model documents; use as a context manager."""

    def __init__(self, url: str | None = None, *, chunk: int = CHUNK) -> None:
        self.url = url or database_url()
        self.chunk = chunk
        self._conn: Any = None

    def __enter__(self) -> Self:
        self._conn = connect(self.url)
        self._qmark = isinstance(self._conn, sqlite3.Connection)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (ending its read-only transaction)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self._conn is None:
            raise RuntimeError("CommandSource is used outside its `with` block")
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql.replace("%s", "?") if self._qmark else sql, params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def count(self, model: str) -> int:
        """How many rows back the read model (deleted ones included)."""
        return self._rows(f"SELECT COUNT(*) FROM {TABLE_OF[model]}")[0][0]

    def documents(self, model: str) -> Iterator[list[dict[str, Any]]]:
        """The expected documents of `model` in id order, a chunk at a time."""
        return {"posts": self.posts, "comments": self.comments, "authors": self.authors}[model]()

    def _chunks(self, sql: str) -> Iterator[list[tuple[Any, ...]]]:
        last = 0
        while rows := self._rows(sql, last, self.chunk):
            yield rows
            last = rows[-1][0]

    def posts(self) -> Iterator[list[dict[str, Any]]]:
        """Expected `posts` documents."""
        for rows in self._chunks(POSTS):
            low, high = rows[0][0], rows[-1][0]
            tags: dict[int, list[str]] = defaultdict(list)
            for post_id, name in self._rows(POST_TAGS, low, high):
                tags[post_id].append(name)
            comments = {post_id: (n, last) for post_id, n, last in self._rows(POST_COMMENTS, False, low, high)}
            chunk = []
            for pid, title, content, status, version, created, updated, published, *author, user_version in rows:
                count, last = comments.get(pid, (0, None))
                chunk.append({
                    "id": str(pid), "title": title, "content": content,
                    "content_preview": content_preview(content), "reading_time": reading_time(content),
                    "tags": sorted(tags[pid]), "status": status, "deleted": status == "deleted",
                    "author": _author(*author), "author_version": user_version,
                    "comment_count": count, "last_commented_at": utc_text(last),
                    "created_at": utc_text(created), "updated_at": utc_text(updated),
                    "published_at": utc_text(published), "post_version": version,
                })  # fmt: skip
            yield chunk

    def comments(self) -> Iterator[list[dict[str, Any]]]:
        """Expected `comments` documents."""
        for rows in self._chunks(COMMENTS):
            chunk = []
            for cid, post_id, body, deleted, version, created, updated, title, status, *author, user_version in rows:
                chunk.append({
                    "id": str(cid), "post_id": str(post_id), "post_title": None if status == "deleted" else title,
                    "post_deleted": status == "deleted", "body": body, "deleted": bool(deleted),
                    "author": _author(*author), "author_version": user_version,
                    "created_at": utc_text(created), "updated_at": utc_text(updated), "comment_version": version,
                })  # fmt: skip
            yield chunk

    def authors(self) -> Iterator[list[dict[str, Any]]]:
        """Expected `authors` documents."""
        for rows in self._chunks(USERS):
            low, high = rows[0][0], rows[-1][0]
            published = dict(self._rows(AUTHOR_POSTS, low, high))
            comments = dict(self._rows(AUTHOR_COMMENTS, False, low, high))
            chunk = []
            for uid, username, display_name, avatar_url, bio, version in rows:
                chunk.append({
                    **_author(uid, username, display_name, avatar_url), "bio": bio, "user_version": version,
                    "published_post_count": published.get(uid, 0), "comment_count": comments.get(uid, 0),
                })  # fmt: skip
            yield chunk
