"""The read models' index definitions, defined once and versioned: a change of mapping is a new version and a rebuild.

The projector creates indices from these bodies and the query service searches the fields they declare, so both
take them from here. Each read model is served through an alias (`posts`, `comments`, `authors`, prefixed by
PROJECTOR_INDEX_PREFIX); the physical index is `<alias>-v<mapping version>-<build id>` (`read_models.indices`), so a
rebuild creates fresh indices beside the live ones and swaps the aliases atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ANALYSIS = {
    "filter": {
        "english_stemmer": {"type": "stemmer", "language": "english"},
        "english_stop": {"type": "stop", "stopwords": "_english_"},
    },
    "analyzer": {"content_text": {"tokenizer": "standard", "filter": ["lowercase", "english_stop", "english_stemmer"]}},
}

AUTHOR = {
    "properties": {
        "id": {"type": "keyword"},
        "username": {"type": "keyword"},
        "display_name": {"type": "text", "analyzer": "content_text", "fields": {"raw": {"type": "keyword"}}},
        "avatar_url": {"type": "keyword", "index": False},
    }
}

# Bookkeeping that only the projector reads: stored, never indexed.
FIELD_VERSIONS = {"field_versions": {"type": "object", "enabled": False}}  # per field, the version that last wrote it
COUNT_CLOCK = {"count_clock": {"type": "long", "index": False}}  # the counts' recount tick (projector.consumer.counts)


@dataclass(frozen=True)
class ReadModel:
    """One read model: its alias, mapping version and index body."""

    name: str
    version: int
    mappings: dict[str, Any]
    shards: int = 1

    def body(self) -> dict[str, Any]:
        """The create-index body."""
        return {
            "settings": {"number_of_shards": self.shards, "number_of_replicas": 0, "analysis": ANALYSIS},
            "mappings": {"dynamic": "strict", **self.mappings},
        }


POSTS = ReadModel(
    "posts",
    4,
    {
        "properties": {
            "id": {"type": "keyword"},
            "title": {"type": "text", "analyzer": "content_text", "fields": {"raw": {"type": "keyword"}}},
            "content": {"type": "text", "analyzer": "content_text"},
            "content_preview": {"type": "text", "index": False},
            "reading_time": {"type": "integer"},
            "tags": {"type": "keyword", "fields": {"text": {"type": "text", "analyzer": "content_text"}}},
            "status": {"type": "keyword"},
            "deleted": {"type": "boolean"},
            "author": AUTHOR,
            "author_version": {"type": "integer"},
            "comment_count": {"type": "integer"},
            "last_commented_at": {"type": "date"},
            "created_at": {"type": "date"},
            "updated_at": {"type": "date"},
            "published_at": {"type": "date"},
            "post_version": {"type": "integer"},
            "comment_facing_version": {"type": "integer"},  # last version that changed what comments show
            **COUNT_CLOCK,
            **FIELD_VERSIONS,
        }
    },
)

COMMENTS = ReadModel(
    "comments",
    2,
    {
        "properties": {
            "id": {"type": "keyword"},
            "post_id": {"type": "keyword"},
            "post_title": {"type": "text", "index": False},
            "post_version": {"type": "integer"},
            "post_deleted": {"type": "boolean"},
            "body": {"type": "text", "analyzer": "content_text"},
            "deleted": {"type": "boolean"},
            "author": AUTHOR,
            "author_version": {"type": "integer"},
            "created_at": {"type": "date"},
            "updated_at": {"type": "date"},
            "comment_version": {"type": "integer"},
            **FIELD_VERSIONS,
        }
    },
)

AUTHORS = ReadModel(
    "authors",
    4,
    {
        "properties": {
            "id": {"type": "keyword"},
            "username": {"type": "keyword"},
            "display_name": {"type": "text", "analyzer": "content_text", "fields": {"raw": {"type": "keyword"}}},
            "avatar_url": {"type": "keyword", "index": False},
            "bio": {"type": "text", "analyzer": "content_text"},
            "user_version": {"type": "integer"},
            "registered": {"type": "boolean"},
            "erased": {"type": "boolean"},  # a tombstone: the person was erased (`read_models.documents`)
            "published_post_count": {"type": "integer"},
            "comment_count": {"type": "integer"},
            **COUNT_CLOCK,
            **FIELD_VERSIONS,
        }
    },
)

READ_MODELS = (POSTS, COMMENTS, AUTHORS)
MODELS_BY_NAME = {model.name: model for model in READ_MODELS}
