"""Realistic, deterministic event histories for the projector benchmarks: pure functions, no I/O.

`history(Recipe(...))` follows issue 13's recipe. Users register first. Per post: created, edited twice, retagged,
published, then 5 comments (one of them edited, another deleted); one post in 20 ends unpublished or deleted
(alternately, after its comments). Every user changes their display name once (`user.profile_changed`) somewhere
in the middle 40 % of the history, and content written afterwards carries the new author snapshot (user_version 2).
One popular author (user "1") writes every 10th comment. Posts overlap in time, so aggregates interleave as in
live traffic. Events come out in time order (ties keep generation order); each aggregate's versions run 1..n.

`hot_author_history(comments)` is the P9 history: a second user's posts (created, published), then `comments`
comments all by user "1", spread `per_post` to a post so that only the author's document grows.

`expected_documents(events)` folds a history into the fields a correct projection must end with (a subset of the
public fields, enough to catch a fast but wrong projector). The same seed gives the same events, ids included.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.read_data import TAGS, Vocabulary
from events.envelope import EventEnvelope
from events.types import (
    AuthorSnapshot,
    CommentAdded,
    CommentDeleted,
    CommentEdited,
    PostCreated,
    PostDeleted,
    PostEdited,
    PostPublished,
    PostTagsChanged,
    PostUnpublished,
    UserProfileChanged,
    UserRegistered,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
HOT_AUTHOR = "1"


@dataclass(frozen=True)
class Recipe:
    """The shape of a `history`; the defaults are the issue's recipe.

    Attributes:
        posts: posts written.
        users: users (authors and commenters), at least 2; user "1" is the popular commenter.
        comments_per_post: comments on each post; the first is edited, the second deleted (needs 2 or more).
        gone_every: one post in `gone_every` ends unpublished or deleted (alternately).
        hot_every: every `hot_every`-th comment is by the popular author (10 %: 10).
        seed: the random seed.
    """

    posts: int = 2000
    users: int = 200
    comments_per_post: int = 5
    gone_every: int = 20
    hot_every: int = 10
    seed: int = 1

    def expected_counts(self) -> Counter[str]:
        """How many events of each type the history holds."""
        gone = self.posts // self.gone_every
        comments = self.posts * self.comments_per_post
        return Counter({
            "user.registered": self.users, "user.profile_changed": self.users,
            "post.created": self.posts, "post.edited": 2 * self.posts, "post.tags_changed": self.posts,
            "post.published": self.posts, "post.unpublished": gone - gone // 2, "post.deleted": gone // 2,
            "comment.added": comments, "comment.edited": self.posts, "comment.deleted": self.posts,
        })  # fmt: skip


@dataclass(frozen=True)
class _Step:
    """One command at a moment (seconds after START); `seq` keeps generation order among equal moments."""

    at: float
    seq: int
    kind: str
    args: tuple


class _Builder:
    """Turns steps, replayed in time order, into envelopes with the versions and snapshots of that moment."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.versions: dict[tuple[str, str], int] = {}
        self.profiles: dict[str, tuple[str, str]] = {}  # user id: (username, display_name)
        self.events: list[EventEnvelope] = []

    def _next(self, kind: str, aggregate_id: str) -> int:
        version = self.versions.get((kind, aggregate_id), 0) + 1
        self.versions[(kind, aggregate_id)] = version
        return version

    def snapshot(self, user_id: str) -> AuthorSnapshot:
        username, display_name = self.profiles[user_id]
        return AuthorSnapshot(user_id, username, display_name, None, self.versions[("user", user_id)])

    def emit(self, payload: object, kind: str, aggregate_id: str, at: float, actor: str | None) -> None:
        event_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.events.append(
            EventEnvelope.create(
                payload,
                aggregate_version=self._next(kind, aggregate_id),
                correlation_id=f"bench-{len(self.events) + 1}",
                actor_id=actor,
                occurred_at=START + timedelta(seconds=at),
                event_id=event_id,
                subject_id=actor,  # every personal change here is made by the person it is about
            )
        )

    def apply(self, step: _Step) -> None:
        at, args = step.at, step.args
        moment = START + timedelta(seconds=at)
        match step.kind:
            case "register":
                (uid,) = args
                self.profiles[uid] = (f"user{uid}", f"User {uid}")
                self.emit(UserRegistered(uid, f"user{uid}", f"User {uid}", None, f"Bio of user {uid}"), "user", uid,
                          at, uid)  # fmt: skip
            case "rename":
                (uid,) = args
                username, display_name = self.profiles[uid]
                self.profiles[uid] = (username, renamed(display_name))
                self.emit(UserProfileChanged(uid, renamed(display_name), None, f"Bio of user {uid}"), "user", uid,
                          at, uid)  # fmt: skip
            case "post.created":
                pid, uid, title, content, tags = args
                self.emit(PostCreated(pid, self.snapshot(uid), title, content, tags, moment), "post", pid, at, uid)
            case "post.edited":
                pid, uid, title, content = args
                self.emit(PostEdited(pid, title, content), "post", pid, at, uid)
            case "post.tags_changed":
                pid, uid, tags = args
                self.emit(PostTagsChanged(pid, tags), "post", pid, at, uid)
            case "post.published":
                pid, uid = args
                self.emit(PostPublished(pid, moment), "post", pid, at, uid)
            case "post.unpublished":
                pid, uid = args
                self.emit(PostUnpublished(pid), "post", pid, at, uid)
            case "post.deleted":
                pid, uid = args
                self.emit(PostDeleted(pid), "post", pid, at, uid)
            case "comment.added":
                cid, pid, uid, body = args
                self.emit(CommentAdded(cid, pid, self.snapshot(uid), body, moment), "comment", cid, at, uid)
            case "comment.edited":
                cid, pid, uid, body = args
                self.emit(CommentEdited(cid, pid, body), "comment", cid, at, uid)
            case "comment.deleted":
                cid, pid, uid = args
                self.emit(CommentDeleted(cid, pid), "comment", cid, at, uid)
            case _:
                raise ValueError(f"unknown step {step.kind}")


def renamed(display_name: str) -> str:
    """The display name a user takes mid-history."""
    return f"{display_name} (renamed)"


def _text(rng: random.Random, vocab: Vocabulary, low: int, high: int) -> str:
    return " ".join(vocab.draw(rng, rng.randint(low, high)))


def _tags(rng: random.Random) -> tuple[str, ...]:
    return tuple(sorted(set(rng.choices(TAGS[:20], k=rng.randint(2, 3)))))


def history(recipe: Recipe = Recipe()) -> list[EventEnvelope]:
    """The events of `recipe`, in time order (see the module docstring)."""
    if recipe.users < 2 or recipe.comments_per_post < 2 or recipe.posts < 1:
        raise ValueError("a history needs 2+ users, 1+ posts and 2+ comments per post")
    rng = random.Random(recipe.seed)
    vocab = Vocabulary.build(rng, tail=1000)
    steps: list[_Step] = []

    def step(at: float, kind: str, *args: Any) -> float:
        steps.append(_Step(at, len(steps), kind, args))
        return at

    users = [str(n) for n in range(1, recipe.users + 1)]
    for n, uid in enumerate(users):
        step(-recipe.users + n, "register", uid)  # everyone is registered before anything is written
    others = users[1:]
    comment_id = 0
    for p in range(1, recipe.posts + 1):
        pid, uid = str(p), rng.choice(users)
        at = step(float(p), "post.created", pid, uid, _text(rng, vocab, 4, 9).capitalize(),
                  _text(rng, vocab, 60, 400), _tags(rng))  # fmt: skip
        for _ in range(2):
            at = step(at + rng.uniform(1, 30), "post.edited", pid, uid, _text(rng, vocab, 4, 9).capitalize(),
                      _text(rng, vocab, 60, 400))  # fmt: skip
        at = step(at + rng.uniform(1, 30), "post.tags_changed", pid, uid, _tags(rng))
        published = step(at + rng.uniform(1, 30), "post.published", pid, uid)
        last = published
        for k in range(recipe.comments_per_post):
            comment_id += 1
            cid = str(comment_id)
            author = HOT_AUTHOR if comment_id % recipe.hot_every == 0 else rng.choice(others)
            added = step(published + rng.uniform(1, 200), "comment.added", cid, pid, author, _text(rng, vocab, 5, 40))
            last = max(last, added)
            if k == 0:
                last = max(last, step(added + rng.uniform(1, 60), "comment.edited", cid, pid, author,
                                      _text(rng, vocab, 5, 40)))  # fmt: skip
            elif k == 1:
                last = max(last, step(added + rng.uniform(1, 60), "comment.deleted", cid, pid, author))
        if p % recipe.gone_every == 0:
            gone = "post.unpublished" if (p // recipe.gone_every) % 2 else "post.deleted"
            step(last + rng.uniform(1, 60), gone, pid, uid)
    end = max(s.at for s in steps)  # a post starts every second; its lifecycle lasts minutes
    for uid in users:
        step(end * rng.uniform(0.3, 0.7), "rename", uid)
    return _replay(steps, rng)


def hot_author_history(
    comments: int, *, per_post: int = 50, seed: int = 1
) -> tuple[list[EventEnvelope], list[EventEnvelope]]:
    """(setup, comments): users "1" and "2" registered and user 2's posts published, then user 1's comments in order."""
    rng = random.Random(seed)
    vocab = Vocabulary.build(rng, tail=1000)
    steps: list[_Step] = []
    posts = max(1, -(-comments // per_post))
    steps += [_Step(-2, 0, "register", (HOT_AUTHOR,)), _Step(-1, 1, "register", ("2",))]
    for p in range(1, posts + 1):
        pid = str(p)
        title, content = _text(rng, vocab, 4, 9).capitalize(), _text(rng, vocab, 60, 400)
        steps.append(_Step(p, len(steps), "post.created", (pid, "2", title, content, _tags(rng))))
        steps.append(_Step(p + 0.5, len(steps), "post.published", (pid, "2")))
    setup = len(steps)
    for c in range(1, comments + 1):
        args = (str(c), str((c - 1) // per_post + 1), HOT_AUTHOR, _text(rng, vocab, 5, 40))
        steps.append(_Step(posts + 1 + c, len(steps), "comment.added", args))
    events = _replay(steps, rng)
    return events[:setup], events[setup:]


def _replay(steps: list[_Step], rng: random.Random) -> list[EventEnvelope]:
    builder = _Builder(rng)
    for step in sorted(steps, key=lambda s: (s.at, s.seq)):
        builder.apply(step)
    return builder.events


def expected_documents(events: list[EventEnvelope]) -> dict[str, dict[str, dict[str, Any]]]:
    """{model: {id: fields}}: what a correct projection of `events` (in this order) must end with, in part.

    Posts: title, tags, status, author display name, live comment count. Comments: body, deleted, author display
    name. Authors: display name, published posts, live comments (on deleted posts too).
    """
    names: dict[str, str] = {}
    posts: dict[str, dict[str, Any]] = {}
    comments: dict[str, dict[str, Any]] = {}
    for event in events:
        payload = event.payload
        match event.event_type:
            case "user.registered" | "user.profile_changed":
                names[payload.user_id] = payload.display_name
            case "post.created":
                posts[payload.post_id] = {"title": payload.title, "tags": list(payload.tags), "status": "draft",
                                          "author": payload.author.user_id}  # fmt: skip
            case "post.edited":
                posts[payload.post_id]["title"] = payload.title
            case "post.tags_changed":
                posts[payload.post_id]["tags"] = list(payload.tags)
            case "post.published" | "post.unpublished" | "post.deleted":
                status = {"post.published": "published", "post.unpublished": "draft"}.get(event.event_type, "deleted")
                posts[payload.post_id]["status"] = status
            case "comment.added":
                comments[payload.comment_id] = {"body": payload.body, "deleted": False, "post": payload.post_id,
                                                "author": payload.author.user_id}  # fmt: skip
            case "comment.edited":
                comments[payload.comment_id]["body"] = payload.body
            case "comment.deleted":
                comments[payload.comment_id]["deleted"] = True
    live = [c for c in comments.values() if not c["deleted"]]
    per_post, per_author = Counter(c["post"] for c in live), Counter(c["author"] for c in live)
    published = Counter(p["author"] for p in posts.values() if p["status"] == "published")
    return {
        "posts": {
            pid: {"title": p["title"], "tags": p["tags"], "status": p["status"],
                  "author.display_name": names[p["author"]], "comment_count": per_post[pid]}
            for pid, p in posts.items()
        },
        "comments": {
            cid: {"body": c["body"], "deleted": c["deleted"], "author.display_name": names[c["author"]]}
            for cid, c in comments.items()
        },
        "authors": {
            uid: {"display_name": name, "published_post_count": published[uid], "comment_count": per_author[uid]}
            for uid, name in names.items()
        },
    }  # fmt: skip


def mismatches(expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]) -> list[str]:
    """What differs between `expected_documents(...)[model]` and {id: projected document} (dotted names nest)."""
    out = [f"missing {doc_id}" for doc_id in expected.keys() - actual.keys()]
    out += [f"unexpected {doc_id}" for doc_id in actual.keys() - expected.keys()]
    for doc_id in expected.keys() & actual.keys():
        for name, want in expected[doc_id].items():
            got: Any = actual[doc_id]
            for part in name.split("."):
                got = got.get(part) if isinstance(got, dict) else None
            if got != want:
                out.append(f"{doc_id}.{name}: expected {want!r}, got {got!r}")
    return sorted(out)
