"""Kafka in, OpenSearch out: the denormalized read models of posts, comments and authors.

Every write is a painless scripted upsert guarded by the version of the aggregate that produced it, so applying an
event twice, replaying a partition, or receiving an older event after a newer one never regresses a document.
Deleted posts and comments stay as tombstones (`deleted: true`) carrying their last version: a stale event replayed
later meets the tombstone and does nothing. (A plain delete would not do: OpenSearch forgets a deleted document's
version after `index.gc_deletes`, 60 s by default, and a late event would then re-create the document.)

Counts are exact and idempotent because they are recomputed, never kept: a post's comments and an author's posts and
comments are counted from their own documents once a batch is searchable, and written under a shared recount clock so
the latest recount wins (`projector.consumer.counts`). No document keeps state that grows with its owner's history.

Cross-aggregate fields converge whatever the arrival order across topics, by writing first and reading second on
both sides: a content document is written (and made searchable), then the author's own document is read; a user
event writes the author document, then rewrites the content with update_by_query. Whichever side comes second sees
the other's write. Each side keeps the newer of the two by the author's `user_version`.

Grouped by role: `projector.consumer` is the live path (the loop, handlers and plans, the writer and its scripts,
the live indices, holds and dead letters, the notices publisher, metrics, and the wiring that builds it);
`projector.operations` holds the operator's commands (`python -m projector ...`: the CLI, rebuild, verify against the
command database, index management), which run the consumer's code; the consumer never imports them. What the
projector shares with readers (read-model definitions, index and key names, the notice and freshness formats) is the
contract package `read_models`.
"""
