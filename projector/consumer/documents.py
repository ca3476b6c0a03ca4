"""Pure field builders for read-model documents: what a post's preview and reading time are, how times look."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from events.types import AuthorSnapshot

PREVIEW_CHARS = 200
WORDS_PER_MINUTE = 200
_WORD = re.compile(r"\w+")


def field_of(source: dict[str, Any], dotted: str) -> Any:
    """A (possibly nested) field of a document's source: `author.id`; None when absent."""
    value: Any = source
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def iso(moment: datetime | None) -> str | None:
    """A UTC time as OpenSearch stores it (ISO 8601, microseconds, Z)."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_preview(content: str) -> str:
    """The first PREVIEW_CHARS characters, whitespace folded, cut at a word boundary when one is near."""
    text = " ".join(content.split())
    if len(text) <= PREVIEW_CHARS:
        return text
    cut = text[:PREVIEW_CHARS]
    space = cut.rfind(" ")
    return (cut[:space] if space > PREVIEW_CHARS - 30 else cut).rstrip() + "…"


def reading_time(content: str) -> int:
    """Whole minutes to read `content` at WORDS_PER_MINUTE, at least 1."""
    return max(1, math.ceil(len(_WORD.findall(content)) / WORDS_PER_MINUTE))


def text_fields(title: str, content: str) -> dict[str, Any]:
    """The searchable and derived fields of a post's text."""
    return {
        "title": title,
        "content": content,
        "content_preview": content_preview(content),
        "reading_time": reading_time(content),
    }


def author_fields(snapshot: AuthorSnapshot) -> dict[str, Any]:
    """The author as content documents embed it."""
    return {
        "id": snapshot.user_id,
        "username": snapshot.username,
        "display_name": snapshot.display_name,
        "avatar_url": snapshot.avatar_url,
    }
