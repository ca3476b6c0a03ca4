"""One rule decides which posts are public, and its query form selects exactly the documents its predicate accepts."""

from __future__ import annotations

import itertools
from typing import Any

from query_service.search.posts import PostFilter
from read_models.visibility import PUBLIC_POST_FIELDS, is_public_post, public_post_clauses

STATUSES = ("draft", "published", "archived", None)
DELETED = (True, False, None)  # None: the field is absent


def post(status: str | None, deleted: bool | None) -> dict[str, Any]:
    document: dict[str, Any] = {"id": "1", "title": "T"}
    if status is not None:
        document["status"] = status
    if deleted is not None:
        document["deleted"] = deleted
    return document


def term_matches(clause: dict[str, Any], document: dict[str, Any]) -> bool:
    """OpenSearch's `term` on a keyword or boolean field: the value is there and equal (absent never matches)."""
    ((field, value),) = clause["term"].items()
    return field in document and document[field] == value


def query_selects(clauses: dict[str, list[dict[str, Any]]], document: dict[str, Any]) -> bool:
    """A `bool` query of `filter` and `must_not` term clauses, evaluated on one document."""
    assert set(clauses) == {"filter", "must_not"}
    return all(term_matches(c, document) for c in clauses["filter"]) and not any(
        term_matches(c, document) for c in clauses["must_not"]
    )


def test_the_query_and_the_predicate_agree_on_every_kind_of_post() -> None:
    for status, deleted in itertools.product(STATUSES, DELETED):
        document = post(status, deleted)
        assert query_selects(public_post_clauses(), document) == is_public_post(document), document
    assert [is_public_post(post(s, d)) for s, d in itertools.product(STATUSES, DELETED)].count(True) == 2


def test_the_predicate_reads_only_the_fields_it_declares() -> None:
    assert is_public_post({"status": "published", "deleted": False})
    assert not is_public_post(None)
    assert not is_public_post({})
    clauses = public_post_clauses()
    fields = {field for clause in clauses["filter"] + clauses["must_not"] for field in clause["term"]}
    assert fields == set(PUBLIC_POST_FIELDS)


def test_every_call_gives_fresh_lists_to_extend() -> None:
    first = public_post_clauses()
    first["filter"].append({"term": {"tags": "x"}})
    assert public_post_clauses()["filter"] == [{"term": {"status": "published"}}]


def test_the_post_lists_query_starts_with_the_rule_then_the_filters() -> None:
    query = PostFilter(tags=("web",), author_id="7").query()
    assert query == {
        "bool": {
            "filter": [{"term": {"status": "published"}}, {"term": {"tags": "web"}}, {"term": {"author.id": "7"}}],
            "must_not": [{"term": {"deleted": True}}],
        }
    }
