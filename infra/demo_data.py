"""The demo's content: a few people writing about the very stack this project runs on."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "demo-password-2024"

# (username, display name)
USERS = (
    ("maya_chen", "Maya Chen"),
    ("tom_okafor", "Tom Okafor"),
    ("lena_fischer", "Lena Fischer"),
    ("sam_rivera", "Sam Rivera"),
)


@dataclass(frozen=True)
class DemoPost:
    """One post: `key` names it within the demo (and in its Idempotency-Key)."""

    key: str
    author: str
    title: str
    content: str
    tags: tuple[str, ...]
    publish: bool = True


POSTS = (
    DemoPost(
        "outbox",
        "maya_chen",
        "The transactional outbox, explained with one INSERT",
        "Writing the row and the event in one transaction means a crash can never publish an event for a write "
        "that did not happen, nor lose the event of one that did. A relay then reads the outbox in order and "
        "publishes to Kafka with an idempotent producer.",
        ("kafka", "postgres", "patterns"),
    ),
    DemoPost(
        "idempotent-consumers",
        "maya_chen",
        "Idempotent consumers without a distributed lock",
        "Every document carries the version of the event that built it, and a write that is not newer is a no-op. "
        "Replays, duplicates and reordering stop being incidents and become Tuesdays.",
        ("kafka", "opensearch", "patterns"),
    ),
    DemoPost(
        "source-of-truth",
        "tom_okafor",
        "Why PostgreSQL stays our source of truth",
        "Search indices are wonderful and disposable. We keep the facts in one transactional database and rebuild "
        "everything else from the event log whenever the read models change shape.",
        ("postgres", "architecture"),
    ),
    DemoPost(
        "relevance",
        "lena_fischer",
        "Tuning search relevance in OpenSearch: a field guide",
        "Start with the queries your users actually type, boost titles over bodies, and measure before and after "
        "every change. Synonyms come last, not first.",
        ("opensearch", "search"),
    ),
    DemoPost(
        "websockets",
        "sam_rivera",
        "Live updates over WebSockets (draft)",
        "Notes on reconnects, back-pressure and why the client should resume from the last event it saw.",
        ("websockets", "frontend"),
        publish=False,
    ),
)

# A post whose tags are replaced after it is published: (post key, new tags).
TAG_CHANGE = ("relevance", ("opensearch", "search", "performance"))

# (author, post key, body)
COMMENTS = (
    ("tom_okafor", "outbox", "We moved to this pattern last year and have not lost an event since."),
    ("lena_fischer", "outbox", "How do you keep the outbox table from growing forever?"),
    ("maya_chen", "outbox", "The relay prunes sent rows after a week; the topics keep the history."),
    ("sam_rivera", "source-of-truth", "Rebuilding from the log saved us during the last mapping change."),
    ("maya_chen", "relevance", "Boosting titles alone fixed half of our bad results."),
    ("sam_rivera", "relevance", "First!"),
)
DELETED_COMMENT = 5  # index in COMMENTS: its author thinks better of it

# The profile change: (username, new display name, bio); posts and comments show the new name afterwards.
RENAME = ("tom_okafor", "Tomás Okafor", "Runs the platform team. Thinks in transactions.")
